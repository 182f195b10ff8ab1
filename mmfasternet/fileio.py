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


def _size(size: int) -> str:
    """``size`` bytes in MiB, or in KiB below 1 MiB."""
    return f'{size / 2**20:.1f} MiB' if size >= 2**20 else f'{size / 2**10:.1f} KiB'


def _remove(paths: Sequence[str]) -> None:
    for path in paths:
        if osp.exists(path):
            os.remove(path)


def no_space_left(paths: Sequence[str], needed: Optional[int],
                  written: int = 0) -> NoSpaceLeft:
    """The :class:`NoSpaceLeft` of ``paths`` (files of one folder): the ``needed`` bytes
    (when the size is known before writing; else more than the ``written`` ones) and what
    their disk has free, once the partial files are removed."""
    folder = osp.dirname(osp.abspath(paths[-1]))
    free = shutil.disk_usage(folder).free if osp.isdir(folder) else 0
    need = _size(needed) if needed is not None else f'more than {_size(written)}'
    return NoSpaceLeft(f'no space left to write {" and ".join(paths)}: it needs {need}, '
                       f'{_size(free)} are free; nothing was written')


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
        written = osp.getsize(tmp) if osp.exists(tmp) else 0
        _remove([tmp])
        raise no_space_left([path], needed, written) from None
    finally:
        _remove([tmp])


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


def write_image_atomically(image, path: str, params: Sequence[int] = ()) -> None:
    """Encode an OpenCV ``image`` (BGR) in memory (its format from ``path``'s suffix, with
    ``cv2.imwrite``'s ``params``), then write it to ``path`` in one step (a full disk
    raises, where ``cv2.imwrite`` returns False)."""
    import cv2  # imported on use: the core does not import cv2
    encoded, data = cv2.imencode(osp.splitext(path)[1], image, list(params))
    if not encoded:
        raise ValueError(f'OpenCV cannot encode {path}')
    write_bytes_atomically(data.tobytes(), path)


@contextmanager
def staged_files(paths: Sequence[str]) -> Iterator[Dict[str, str]]:
    """Yield, for files that a library writes itself (e.g. OpenVINO's ``.xml`` and its
    ``.bin``), a temporary path of the same name in the system's temporary folder for each
    of ``paths`` (files of one folder); when the block succeeds, copy them beside their
    targets and rename each over its target, the last of ``paths`` (the one a reader opens)
    last, after removing the old one: at every moment the set is the old one, the new one,
    or has no entry file.

    Raises:
        NoSpaceLeft: The targets' disk ran out (their size is known: they are staged).
    """
    folder = tempfile.mkdtemp(prefix='mmfasternet-')
    # The same names: OpenVINO names the .bin after the .xml.
    staged = {path: osp.join(folder, osp.basename(path)) for path in paths}
    copies = [f'{path}.tmp' for path in paths]
    try:
        yield staged
        try:
            for tmp, copy in zip(staged.values(), copies):
                shutil.copyfile(tmp, copy)
        except OSError as error:
            if error.errno not in NO_SPACE_ERRNOS:
                raise
            _remove(copies)
            raise no_space_left(paths, sum(osp.getsize(tmp) for tmp in staged.values())
                                ) from None
        _remove(paths[-1:])
        for path, copy in zip(paths, copies):
            os.replace(copy, path)
    finally:
        _remove(copies)
        shutil.rmtree(folder)


def prepare_output_folder(parser: argparse.ArgumentParser, folder: str) -> None:
    """Create a tool's ``--out`` folder before it measures anything; a path that is a file
    is a usage error (exit 2), so no measurement is lost to a bad path."""
    if osp.exists(folder) and not osp.isdir(folder):
        parser.error(f'--out {folder} is a file; give a folder for the results')
    os.makedirs(folder, exist_ok=True)
