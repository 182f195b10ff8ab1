"""Where the time goes on the deploy path (``python -m benchmarks.profile_runtimes``): the
per-operator profile of deployed models in every runtime and precision, and its tables: the
time per kind of operator, and the share and multiply-add rate of the convs."""
import os.path as osp
from typing import Dict, List, Sequence, Tuple

from .latency import build_classifier
from .low_precision import deployed_files, profile_row, random_images
from .report import markdown_table

Profile = Dict[str, Tuple[float, float]]


def deployed_profiles(names: Sequence[str], rows: Sequence[Tuple[str, str]], runs: int,
                      workdir: str) -> Dict[tuple, Profile]:
    """The profile (:func:`~.low_precision.profile_row`, mean of ``runs``) of each model of
    ``names`` deployed (:func:`~.low_precision.deployed_files`) in each row, keyed ``(name,
    runtime, precision)``."""
    feeds = random_images(1, (1, 3, 224, 224), seed=1)[0]
    profiles = {}
    for name in names:
        fp32, int8 = deployed_files(build_classifier(name), osp.join(workdir, f'{name}.onnx'))
        for runtime, precision in rows:
            profiles[name, runtime, precision] = profile_row(fp32, int8, runtime, precision,
                                                             feeds, runs)
            print(name, runtime, precision, flush=True)
    return profiles


def conv_share(kinds: Profile) -> Tuple[float, float]:
    """Share of the time in convs and fully connected layers (the kinds with multiply-adds),
    and their G multiply-adds/s."""
    ms = sum(ms for ms, macs in kinds.values() if macs)
    macs = sum(macs for _, macs in kinds.values())
    return ms / sum(ms for ms, _ in kinds.values()), macs / ms * 1e3


def summary_table(names: Sequence[str], rows: Sequence[Tuple[str, str]],
                  profiles: Dict[tuple, Profile]) -> List[str]:
    """Per row, each model's total ms and its convs' share and rate (:func:`conv_share`)."""
    cells = []
    for runtime, precision in rows:
        cells.append([runtime, precision])
        for name in names:
            kinds = profiles[name, runtime, precision]
            share, rate = conv_share(kinds)
            cells[-1].append(f'{sum(ms for ms, _ in kinds.values()):.2f} ms, convs '
                             f'{100 * share:.0f}% at {rate:.0f} GMAC/s')
    return markdown_table(['runtime', 'precision', *names], cells)


def kinds_table(title: str, kinds: Profile) -> List[str]:
    """A heading ``title`` with the total ms, and each kind's ms, share, GMACs and GMAC/s,
    the slowest first."""
    total_ms = sum(ms for ms, _ in kinds.values())
    return ['', f'### {title}: {total_ms:.2f} ms', ''] + markdown_table(
        ['operator', 'ms', 'share', 'GMACs', 'GMAC/s'],
        [[kind, f'{ms:.3f}', f'{100 * ms / total_ms:.1f}%', f'{macs:.3f}',
          f'{macs / ms * 1e3:.1f}' if macs else '']
         for kind, (ms, macs) in sorted(kinds.items(), key=lambda item: -item[1][0])])


def model_sections(names: Sequence[str], rows: Sequence[Tuple[str, str]],
                   profiles: Dict[tuple, Profile]) -> List[str]:
    """A section per model: its :func:`kinds_table` in each row."""
    lines = []
    for name in names:
        lines += ['', f'## {name}']
        for runtime, precision in rows:
            lines += kinds_table(f'{runtime} {precision}', profiles[name, runtime, precision])
    return lines
