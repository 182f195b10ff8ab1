"""Small helpers shared across the package."""
import argparse
import json
import os
import os.path as osp


def write_text_atomically(text: str, path: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then replace ``path`` in one
    step: a failure leaves no half-written file behind."""
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def write_json_atomically(obj, path: str, **kwargs) -> None:
    """Serialise ``obj`` fully, then replace ``path`` in one step."""
    write_text_atomically(json.dumps(obj, **kwargs), path)


def prepare_output_folder(parser: argparse.ArgumentParser, folder: str) -> None:
    """Create a tool's ``--out`` folder before it measures anything; a path that is a file
    is a usage error (exit 2), so no measurement is lost to a bad path."""
    if osp.exists(folder) and not osp.isdir(folder):
        parser.error(f'--out {folder} is a file; give a folder for the results')
    os.makedirs(folder, exist_ok=True)
