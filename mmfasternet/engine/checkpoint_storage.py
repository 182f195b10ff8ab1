"""Where training writes its checkpoints: mmengine's local file backend, with every write
replacing the file in one step, so that a save that fails (disk full, a killed process)
leaves the previous files as they were and no partial checkpoint behind."""
import os
import os.path as osp
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from mmfasternet.fileio import write_bytes_atomically

# The name configs give it: default_hooks.checkpoint.backend_args = dict(backend=...).
BACKEND_NAME = 'mmfasternet_atomic_local'


class AtomicLocalBackend(LocalBackend):
    """:class:`mmengine.fileio.LocalBackend` whose :meth:`put` writes a temporary file
    beside the target, syncs it and renames it over the target; a failed write removes it.
    A full disk is a :class:`~mmfasternet.fileio.NoSpaceLeft` naming the file and the space
    it needed."""

    def put(self, obj: bytes, filepath: Union[str, os.PathLike]) -> None:
        filepath = os.fspath(filepath)
        os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
        write_bytes_atomically(obj, filepath)


def save_checkpoints_atomically(cfg) -> None:
    """Make the checkpoint hook of ``cfg`` write through :class:`AtomicLocalBackend`,
    unless the config gives it a storage backend of its own (or has no such hook)."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if (isinstance(hook, dict) and hook.get('backend_args') is None
            and hook.get('file_client_args') is None
            and '://' not in str(hook.get('out_dir') or '')):
        hook['backend_args'] = dict(backend=BACKEND_NAME)


register_backend(BACKEND_NAME, AtomicLocalBackend, force=True)
