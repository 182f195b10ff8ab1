"""Writing outputs so that a failure leaves no half-written file behind."""
import argparse
import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def replaced_atomically(path: str) -> Iterator[str]:
    """Yield a temporary path beside ``path`` to write to; when the block succeeds it
    replaces ``path`` in one step, when it raises it is removed and ``path`` is untouched."""
    tmp = f'{path}.tmp'
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_text_atomically(text: str, path: str) -> None:
    """Write ``text`` to ``path`` in one step (see :func:`replaced_atomically`)."""
    with replaced_atomically(path) as tmp, open(tmp, 'w') as f:
        f.write(text)


def write_json_atomically(obj, path: str, **kwargs) -> None:
    """Serialise ``obj`` fully, then replace ``path`` in one step."""
    write_text_atomically(json.dumps(obj, **kwargs), path)


def prepare_output_folder(parser: argparse.ArgumentParser, folder: str) -> None:
    """Create a tool's ``--out`` folder before it measures anything; a path that is a file
    is a usage error (exit 2), so no measurement is lost to a bad path."""
    if osp.exists(folder) and not osp.isdir(folder):
        parser.error(f'--out {folder} is a file; give a folder for the results')
    os.makedirs(folder, exist_ok=True)
