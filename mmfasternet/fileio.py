"""Writing outputs whole or not at all, and never over an input: each file is written under
a temporary name of its writer's own beside it and renamed over it in one step, so a failure
(a full disk, a killed process, an exception) leaves the previous file as it was and nothing
half-written; a full disk is one :class:`NoSpaceLeft` naming the file, the space it needed
and what was free. A temporary name records its writer's process id: what a killed writer
left is removed by the next writer of the same file. A tool checks its outputs before any
work (:func:`check_output_file`)."""
import argparse
import errno
import io
import json
import os
import os.path as osp
import re
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Sequence

from .errors import MMFasterNetError

# What a write past the disk's (or a quota's, or a size limit's) end fails with.
NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
# The end of every temporary name this package makes: ``.<file>.<pid>-<token>.mmfasternet-tmp``
# beside the file, ``mmfasternet-<pid>-<token>`` in the system's temporary folder.
TEMPORARY_SUFFIX = '.mmfasternet-tmp'
TEMPORARY_FOLDER_PREFIX = 'mmfasternet-'


class NoSpaceLeft(MMFasterNetError, OSError):
    """A file did not fit on its disk; the file it would have replaced is unchanged."""


class OutputPathError(MMFasterNetError, ValueError):
    """An output path that cannot be written, or that names one of the tool's inputs."""


def _running(pid: int) -> bool:
    """Whether a process ``pid`` exists (of any user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        pass
    return True


def _remove_left_by_dead_writers(folder: str, pattern: re.Pattern) -> None:
    """Remove the entries of ``folder`` whose names ``pattern`` matches with the id of a
    process that no longer runs (its group 1): what a killed writer left."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        found = pattern.fullmatch(name)
        if found and not _running(int(found.group(1))):
            path = osp.join(folder, name)
            shutil.rmtree(path, ignore_errors=True) if osp.isdir(path) else _remove([path])


def temporary_path(path: str) -> str:
    """A name beside ``path`` for this writer's temporary file (or folder) of it:
    ``.<name>.<pid>-<token>.mmfasternet-tmp``, hidden, its own per writer. What earlier,
    killed writers of ``path`` left is removed first."""
    folder, name = osp.split(osp.abspath(path))
    _remove_left_by_dead_writers(
        folder, re.compile(rf'\.{re.escape(name)}\.(\d+)-[0-9a-f]+{re.escape(TEMPORARY_SUFFIX)}'))
    return osp.join(folder, f'.{name}.{os.getpid()}-{secrets.token_hex(4)}{TEMPORARY_SUFFIX}')


@contextmanager
def temporary_folder() -> Iterator[str]:
    """A new folder in the system's temporary folder, removed after the block, named
    ``mmfasternet-<pid>-<token>``; the folders that killed processes left there are removed
    first."""
    parent = tempfile.gettempdir()
    _remove_left_by_dead_writers(
        parent, re.compile(rf'{TEMPORARY_FOLDER_PREFIX}(\d+)-[0-9a-z_]+'))
    folder = tempfile.mkdtemp(prefix=f'{TEMPORARY_FOLDER_PREFIX}{os.getpid()}-', dir=parent)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
    tmp = temporary_path(path)
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
        raise OutputPathError(f'OpenCV cannot encode {path}: give a file name ending in an image '
                              f'format it writes (.jpg, .png)')
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
    with temporary_folder() as folder:
        # The same names: OpenVINO names the .bin after the .xml.
        staged = {path: osp.join(folder, osp.basename(path)) for path in paths}
        copies = [temporary_path(path) for path in paths]
        try:
            yield staged
            try:
                for tmp, copy in zip(staged.values(), copies):
                    shutil.copyfile(tmp, copy)
            except OSError as error:
                if error.errno not in NO_SPACE_ERRNOS:
                    raise
                _remove(copies)
                raise no_space_left(
                    paths, sum(osp.getsize(tmp) for tmp in staged.values())) from None
            _remove(paths[-1:])
            for path, copy in zip(paths, copies):
                os.replace(copy, path)
        finally:
            _remove(copies)


def _writable(folder: str) -> bool:
    """Whether a file can be created in ``folder``, tried with one (a read-only mount or a
    folder without write permission says no; ``os.access`` answers yes to root)."""
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix='.mmfasternet-probe-')
    except OSError as error:
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return False
        raise
    os.close(handle)
    os.remove(probe)
    return True


def check_output_file(path: str, inputs: Sequence[Optional[str]] = ()) -> None:
    """Raise :class:`OutputPathError` unless a file can be written at ``path`` without
    touching the files in ``inputs``: ``path`` is no folder, its folder exists and takes
    new files, and it is none of ``inputs`` by any name (a relative path, ``./``, a link, a
    linked folder: the files are compared, not the paths). A tool calls it before any work.
    """
    if osp.isdir(path):
        raise OutputPathError(f'{path} is a folder; give a file name for the output, e.g. '
                              f'{osp.join(path, "model.onnx")}')
    folder = osp.dirname(osp.abspath(path))
    if osp.exists(folder) and not osp.isdir(folder):
        raise OutputPathError(f'cannot write {path}: {folder} is a file, not a folder')
    if not osp.isdir(folder):
        raise OutputPathError(f'cannot write {path}: the folder {folder} does not exist; '
                              f'create it first (mkdir -p {folder})')
    if not _writable(folder):
        raise OutputPathError(f'cannot write {path}: the folder {folder} is read-only; give '
                              f'the output a path in a folder you can write to')
    if not osp.exists(path):
        return
    for given in inputs:
        if given and osp.exists(given) and osp.samefile(given, path):
            raise OutputPathError(f'{path} is the input {given}: writing it would replace '
                                  f'it; give the output another name')


def prepare_output_folder(parser: argparse.ArgumentParser, folder: str) -> None:
    """Create a tool's ``--out`` folder before it measures anything; a path that is a file
    is a usage error (exit 2), so no measurement is lost to a bad path."""
    if osp.exists(folder) and not osp.isdir(folder):
        parser.error(f'--out {folder} is a file; give a folder for the results')
    os.makedirs(folder, exist_ok=True)
