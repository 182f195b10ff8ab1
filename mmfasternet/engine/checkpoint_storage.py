"""Where training writes its checkpoints: mmengine's local file backend, with every write
replacing the file in one step, so that a save that fails (disk full, a killed process)
leaves the previous files as they were and no partial checkpoint behind."""
import errno
import os
import os.path as osp
import shutil
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from mmfasternet.errors import MMFasterNetError
from mmfasternet.fileio import replaced_atomically

# The name configs give it: default_hooks.checkpoint.backend_args = dict(backend=...).
BACKEND_NAME = 'mmfasternet_atomic_local'

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class NoSpaceLeft(MMFasterNetError, OSError):
    """A checkpoint did not fit on the disk; the file it would have replaced is unchanged."""


class AtomicLocalBackend(LocalBackend):
    """:class:`mmengine.fileio.LocalBackend` whose :meth:`put` writes a temporary file
    beside the target, syncs it and renames it over the target; a failed write removes it.
    A full disk is a :class:`NoSpaceLeft` naming the file and the space it needed."""

    def put(self, obj: bytes, filepath: Union[str, os.PathLike]) -> None:
        filepath = os.fspath(filepath)
        os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
        try:
            with replaced_atomically(filepath) as tmp, open(tmp, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
        except OSError as error:
            if error.errno not in _NO_SPACE:
                raise
            free = shutil.disk_usage(osp.dirname(osp.abspath(filepath))).free
            raise NoSpaceLeft(
                f'no space left to write {filepath}: it needs '
                f'{len(obj) / 2**20:.1f} MiB, {free / 2**20:.1f} MiB are free; nothing was '
                f'written') from None


def save_checkpoints_atomically(cfg) -> None:
    """Make the checkpoint hook of ``cfg`` write through :class:`AtomicLocalBackend`,
    unless the config gives it a storage backend of its own (or has no such hook)."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if (isinstance(hook, dict) and hook.get('backend_args') is None
            and hook.get('file_client_args') is None
            and '://' not in str(hook.get('out_dir') or '')):
        hook['backend_args'] = dict(backend=BACKEND_NAME)


register_backend(BACKEND_NAME, AtomicLocalBackend, force=True)
