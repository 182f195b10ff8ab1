"""Writing outputs whole or not at all: each file is written under a temporary name beside
it and renamed over it in one step, so a failure (a full disk, a killed process, an
exception) leaves the previous file as it was and nothing half-written; a full disk is one
:class:`NoSpaceLeft` naming the file, the space it needed and what was free."""
import argparse
import errno
import io
import json
import os
import os.path as osp
import shutil
import tempfile
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Sequence

from .errors import MMFasterNetError

# What a write past the disk's (or a quota's, or a size limit's) end fails with.
NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class NoSpaceLeft(MMFasterNetError, OSError):
    """A file did not fit on its disk; the file it would have replaced is unchanged."""


def _mib(size: int) -> str:
    return f'{size / 2**20:.1f} MiB'


def no_space_left(path: str, needed: Optional[int], written: int = 0) -> NoSpaceLeft:
    """The :class:`NoSpaceLeft` of ``path``: the ``needed`` bytes (when the size is known
    before writing; else more than the ``written`` ones) and what its disk has free."""
    folder = osp.dirname(osp.abspath(path))
    free = shutil.disk_usage(folder).free if osp.isdir(folder) else 0
    need = _mib(needed) if needed is not None else f'more than {_mib(written)}'
    return NoSpaceLeft(f'no space left to write {path}: it needs {need}, {_mib(free)} are '
                       f'free; nothing was written')


@contextmanager
def replaced_atomically(path: str, needed: Optional[int] = None) -> Iterator[str]:
    """Yield a temporary path beside ``path`` to write to; when the block succeeds it
    replaces ``path`` in one step, when it raises it is removed and ``path`` is untouched.

    Args:
        path (str): The file to write.
        needed (int, optional): Its size in bytes, when known before writing, for the
            message of a full disk.

    Raises:
        NoSpaceLeft: The disk (or a quota or file size limit) ran out.
    """
    tmp = f'{path}.tmp'
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as error:
        if error.errno not in NO_SPACE_ERRNOS or isinstance(error, NoSpaceLeft):
            raise
        raise no_space_left(path, needed, osp.getsize(tmp) if osp.exists(tmp) else 0
                            ) from None
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_bytes_atomically(data: bytes, path: str) -> None:
    """Write ``data`` to ``path`` in one step, synced to the disk before the rename (see
    :func:`replaced_atomically`)."""
    with replaced_atomically(path, len(data)) as tmp, open(tmp, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_text_atomically(text: str, path: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` in one step."""
    write_bytes_atomically(text.encode(), path)


def write_json_atomically(obj, path: str, **kwargs) -> None:
    """Serialise ``obj`` fully, then replace ``path`` in one step."""
    write_text_atomically(json.dumps(obj, **kwargs), path)


def save_figure_atomically(figure, path: str, **kwargs) -> None:
    """Render a matplotlib ``figure`` in memory (its format from ``path``'s suffix), then
    write it to ``path`` in one step."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=osp.splitext(path)[1][1:], **kwargs)
    write_bytes_atomically(buffer.getvalue(), path)


@contextmanager
def staged_files(paths: Sequence[str]) -> Iterator[Dict[str, str]]:
    """Yield, for files that a library writes itself (e.g. OpenVINO's ``.xml`` and its
    ``.bin``), a temporary path in the system's temporary folder for each of ``paths``;
    when the block succeeds, copy them beside their targets and rename each over its
    target, the last of ``paths`` (the one a reader opens) last, after removing the old
    one: at every moment the set is the old one, the new one, or has no entry file.

    Raises:
        NoSpaceLeft: The targets' disk ran out (their size is known: they are staged).
    """
    folder = tempfile.mkdtemp(prefix='mmfasternet-')
    staged = {path: osp.join(folder, f'{i}{osp.splitext(path)[1]}')
              for i, path in enumerate(paths)}
    try:
        yield staged
        needed = sum(osp.getsize(tmp) for tmp in staged.values())
        copies = []
        try:
            for path, tmp in staged.items():
                copies.append(f'{path}.tmp')
                shutil.copyfile(tmp, copies[-1])
        except OSError as error:
            for copy in copies:
                if osp.exists(copy):
                    os.remove(copy)
            if error.errno not in NO_SPACE_ERRNOS:
                raise
            raise no_space_left(' and '.join(paths), needed) from None
        if osp.exists(paths[-1]):
            os.remove(paths[-1])
        for path in paths:
            os.replace(f'{path}.tmp', path)
    finally:
        shutil.rmtree(folder)


def prepare_output_folder(parser: argparse.ArgumentParser, folder: str) -> None:
    """Create a tool's ``--out`` folder before it measures anything; a path that is a file
    is a usage error (exit 2), so no measurement is lost to a bad path."""
    if osp.exists(folder) and not osp.isdir(folder):
        parser.error(f'--out {folder} is a file; give a folder for the results')
    os.makedirs(folder, exist_ok=True)
