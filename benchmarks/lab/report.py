"""How every benchmark writes what it measured: the command that ran, the machine it ran on,
markdown tables and plots, and its files, each whole or absent."""
import os
import shlex
import sys
from contextlib import contextmanager
from typing import Any, Iterator, List, Optional, Sequence

import torch

from mmfasternet.deploy import cpu_name_and_flags, isa_flags
from mmfasternet.fileio import save_figure_atomically, write_json_atomically, write_text_atomically


def command(module: str, args: Optional[Sequence[str]] = None) -> str:
    """The command line that runs the benchmark ``module`` (``benchmarks.NAME``) with
    ``args`` (this process's arguments by default), as a user types it."""
    return shlex.join(['python', '-m', module, *(sys.argv[1:] if args is None else args)])


def machine() -> str:
    """The CPU, its cores and which of the int8/bf16 instructions the runtimes run fast with
    it has (:func:`mmfasternet.deploy.isa_flags`): what every CPU figure is recorded with."""
    cpu, flags = cpu_name_and_flags()
    return (f'{cpu}, {os.cpu_count()} cores; int8/bf16 instructions: '
            f'{", ".join(flags) or "none of " + ", ".join(isa_flags())}')


def header(title: str, module: str, *notes: str) -> List[str]:
    """The first lines of a benchmark's markdown: its title, the command that ran, the
    machine and torch, then ``notes`` (one paragraph each)."""
    lines = [f'# {title}', '', f'`{command(module)}`', '',
             f'CPU: {machine()}; torch {torch.__version__}.']
    for note in notes:
        lines += ['', note]
    return lines + ['']


def markdown_table(header_row: Sequence[str], rows: Sequence[Sequence[Any]],
                   right: int = 0) -> List[str]:
    """The lines of a markdown table; cells are ``str()``-ed; the last ``right`` columns are
    right-aligned (numbers)."""
    if any(len(row) != len(header_row) for row in rows):
        raise ValueError(f'every row must have the header\'s {len(header_row)} cells, got '
                         f'{sorted({len(row) for row in rows})}')
    left = len(header_row) - right
    return (['| ' + ' | '.join(map(str, header_row)) + ' |',
             '|' + '---|' * left + '---:|' * right]
            + ['| ' + ' | '.join(map(str, row)) + ' |' for row in rows])


@contextmanager
def figure(*args, **kwargs) -> Iterator[tuple]:
    """``plt.subplots(*args, **kwargs)`` drawn without a display (Agg) and closed after."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(*args, **kwargs)
    try:
        yield fig, axes
    finally:
        plt.close(fig)


def save_plot(fig, path: str) -> None:
    """Lay ``fig`` out and write it to ``path`` (its format from the suffix) in one step."""
    fig.tight_layout()
    save_figure_atomically(fig, path)


def write_results(lines: Sequence[str], markdown_path: str, record: Optional[dict] = None,
                  json_path: Optional[str] = None) -> None:
    """Write the markdown ``lines`` and, if given, the JSON ``record``, each in one step."""
    write_text_atomically('\n'.join(lines).rstrip('\n') + '\n', markdown_path)
    if record is not None:
        write_json_atomically(record, json_path, indent=1)
    print(f'wrote {markdown_path}' + (f' and {json_path}' if record is not None else ''))
