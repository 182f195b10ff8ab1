"""Reading FasterNet checkpoints safely: local files and http(s) URLs, weights-only on
every supported torch, with errors that say what to do."""
import _compat_pickle
import json
import os
import os.path as osp
import pickle
import re
import struct
import zipfile
from typing import Any, List
from urllib.parse import urlparse

import torch

from mmfasternet.errors import MMFasterNetError
from .weights_only import UnsafeGlobals, allow_mmengine_checkpoints, load_weights_only

OFFICIAL_RELEASE_URL = 'https://github.com/JierunChen/FasterNet/releases/download/v1.0/'
OFFICIAL_IMAGENET_FILE = re.compile(
    r'^fasternet_(t0|t1|t2|s|m|l)-epoch\.\d+-val_acc1\.[\d.]+\.pth$')


class CheckpointError(MMFasterNetError, ValueError):
    """A checkpoint that cannot be read safely or does not fit the model."""


class CheckpointNotFound(CheckpointError, FileNotFoundError):
    """A checkpoint path with no file behind it."""


#: Globals that, named in a pickle, would run code, reach the system or unpickle further when
#: the file is loaded fully: a module (its functions, classes and submodules) or one
#: ``module.name``. A refused file that names one of them gets no advice to load it fully.
CODE_RUNNING_GLOBALS = frozenset((
    'os', 'posix', 'nt', 'subprocess', 'sys', 'shutil', 'importlib', 'runpy', 'pty', 'socket',
    'ctypes', 'pickle', '_pickle', 'marshal', 'code', 'codeop', 'multiprocessing', 'signal',
    'webbrowser', 'pydoc', 'timeit', 'cProfile', 'profile', 'pdb', 'bdb', 'asyncio',
    'threading', '_thread', 'tempfile', 'io', '_io', 'zipimport', 'types', 'operator',
    '_operator', 'functools', 'builtins.eval', 'builtins.exec', 'builtins.compile',
    'builtins.__import__', 'builtins.open', 'builtins.getattr', 'builtins.setattr',
    'builtins.delattr', 'builtins.globals', 'builtins.locals', 'builtins.vars',
    'builtins.input', 'builtins.breakpoint', 'builtins.exit', 'builtins.quit', 'builtins.help',
    'torch.load', 'torch.hub', 'torch.ops', 'torch.classes', 'torch.jit', 'torch._C',
    'numpy.load', 'numpy.lib.npyio', 'numpy.testing',
))


def code_running_globals(names: List[str]) -> List[str]:
    """Those of ``names`` (``module.name``, as a pickle names them) that
    :data:`CODE_RUNNING_GLOBALS` lists, by their Python 3 names (``torch.save``'s protocol 2
    writes Python 2's: ``__builtin__.eval``, ``commands.Popen``)."""
    found = []
    for name in names:
        module, _, attr = name.rpartition('.')
        module, attr = _compat_pickle.NAME_MAPPING.get(
            (module, attr), (_compat_pickle.IMPORT_MAPPING.get(module, module), attr))
        parts = f'{module}.{attr}'.split('.')
        if any('.'.join(parts[:i]) in CODE_RUNNING_GLOBALS for i in range(1, len(parts) + 1)):
            found.append(f'{module}.{attr}')
    return found


def _refused_pickle(path: str, names: List[str]) -> CheckpointError:
    """The error for a pickle that weights-only loading refused: advice to re-save it only
    when it names nothing but data classes."""
    if not all(re.fullmatch(r'[A-Za-z_][\w.]*\.\w+', name) for name in names):
        # Torch gave a reason, not the globals: what the pickle asks for is unknown.
        return CheckpointError(
            f'{path} was not loaded, and nothing in it was run: weights-only loading refused '
            f'it ({"; ".join(names)}). Do not load it in another way unless you know what '
            f'it holds; get the checkpoint again from a source you trust.')
    dangerous = code_running_globals(names)
    if dangerous:
        return CheckpointError(
            f'{path} was not loaded, and nothing in it was run: its pickle names '
            f'{", ".join(dangerous)}, which would run code on this machine if the file were '
            f'loaded fully. Do not load this file in another way; get the checkpoint again '
            f'from a source you trust.')
    return CheckpointError(
        f'{path} was not loaded: its pickle refers to {names} that weights-only loading '
        f'refuses, and nothing in it was run. Checkpoints hold tensors and plain data; if you '
        f'trust this file, re-save its state dict, e.g. '
        f'torch.save(torch.load(path, weights_only=False)["state_dict"], out).')


def _check_exists(checkpoint: str) -> None:
    """Raise :class:`CheckpointNotFound` with what to do when a local checkpoint is
    missing: for an official ImageNet file, where to download it; always, how to train
    from scratch."""
    if osp.exists(osp.expanduser(checkpoint)):
        return
    lines = [f'checkpoint not found: {checkpoint}']
    name = osp.basename(checkpoint)
    if OFFICIAL_IMAGENET_FILE.match(name):
        lines.append(f'This is an official FasterNet ImageNet checkpoint; download it to that '
                     f'path:\n  mkdir -p {osp.dirname(checkpoint) or "."} && '
                     f'wget -P {osp.dirname(checkpoint) or "."} {OFFICIAL_RELEASE_URL}{name}')
    lines.append('Or train the backbone from scratch:\n'
                 '  --cfg-options model.backbone.init_cfg=None')
    raise CheckpointNotFound('\n'.join(lines))


# The first bytes of the formats torch.load reads: a zip archive (torch >= 1.6) or a
# pickle (the legacy format, protocol 2 and up).
ZIP_MAGIC = b'PK\x03\x04'
PICKLE_MAGIC = b'\x80'


def _safetensors_header(path: str, size: int, head: bytes) -> dict:
    """The JSON header of a safetensors file: an 8-byte little-endian length, then that
    many bytes of JSON. Raises :class:`CheckpointError` when it is damaged."""
    length = struct.unpack('<Q', head[:8])[0] if len(head) >= 8 else 0
    if not 2 <= length <= size - 8:
        raise CheckpointError(f'{path} is a damaged safetensors file: its header claims '
                              f'{length} bytes but the file has {size}')
    with open(path, 'rb') as f:
        f.seek(8)
        text = f.read(length)
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f'{path} is a damaged safetensors file: its header is not '
                              f'valid JSON ({error})') from None
    if not isinstance(header, dict):
        raise CheckpointError(f'{path} is a damaged safetensors file: its header is not a '
                              f'JSON object')
    return header


def checkpoint_format(path: str) -> str:
    """Say what kind of checkpoint file ``path`` is, without loading it, or raise
    :class:`CheckpointError` naming the file and what is wrong with it.

    Cheap (reads the zip directory or the safetensors header only), so the tools run it on
    every checkpoint a run will read before they start.

    Returns:
        str: ``'zip'`` (``torch.save``), ``'legacy'`` (the pre-1.6 pickle format) or
        ``'safetensors'``.
    """
    _check_exists(path)
    path = osp.expanduser(path)
    if osp.isdir(path):
        inside = sorted(n for n in os.listdir(path) if n.endswith(('.pth', '.safetensors')))
        hint = f'; it holds {", ".join(inside[:5])}' if inside else ''
        raise CheckpointError(f'{path} is a directory, not a checkpoint file: give the '
                              f'path of the file{hint}')
    size = osp.getsize(path)
    if size == 0:
        raise CheckpointError(f'{path} is empty (0 bytes): the download or the save that '
                              f'wrote it did not finish; fetch or save it again')
    with open(path, 'rb') as f:
        head = f.read(64)
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            raise CheckpointError(
                f'{path} is truncated or damaged: it starts as a PyTorch (zip) checkpoint '
                f'but its {size} bytes end before the archive does; fetch or save it '
                f'again') from None
        if not any(name.endswith('data.pkl') for name in names):
            raise CheckpointError(f'{path} is a zip archive but not a PyTorch checkpoint '
                                  f'(no data.pkl inside)')
        return 'zip'
    if head.startswith(PICKLE_MAGIC):
        return 'legacy'
    if path.endswith('.safetensors') or head[8:9] == b'{':
        _safetensors_header(path, size, head)
        return 'safetensors'
    what = ('a text file (an HTML page from a failed download?)' if head.isascii()
            else 'not a PyTorch checkpoint')
    raise CheckpointError(f'{path} is {what}: it starts with {head[:16]!r}, where a '
                          f'PyTorch checkpoint starts with {ZIP_MAGIC!r} (zip) or '
                          f'{PICKLE_MAGIC!r} (pickle)')


def _read_safetensors(path: str, map_location: Any) -> dict:
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise CheckpointError(f'{path} is a safetensors file; reading it needs the '
                              f'safetensors package: pip install safetensors') from None
    device = map_location if isinstance(map_location, str) else 'cpu'
    try:
        return load_file(path, device=device)
    except Exception as error:  # safetensors raises its own SafetensorError
        raise CheckpointError(f'{path} is a damaged safetensors file: {error}') from None


def _download(url: str) -> str:
    """Fetch an http(s) checkpoint into torch's hub cache (once) and return its path."""
    if not url.startswith(('http://', 'https://')):
        raise CheckpointError(f'cannot read {url}: only local paths and http(s) URLs are '
                              f'supported for FasterNet weights')
    path = osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(urlparse(url).path))
    if not osp.isfile(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
        torch.hub.download_url_to_file(url, path)
    return path


def read_checkpoint(path: str, map_location: Any = 'cpu') -> dict:
    """Read a checkpoint weights-only, on every supported torch; refuse, with a clear
    message, a file whose pickle would construct or call anything beyond tensors and plain
    data (mmengine's logging data included).

    Args:
        path (str): A local file or an http(s) URL (downloaded once into torch's cache):
            a ``torch.save`` file or a ``.safetensors`` file.
        map_location: As for ``torch.load``. Defaults to ``'cpu'``.

    Raises:
        CheckpointError: The file is missing, damaged, not a checkpoint, or would run code.
    """
    if '://' in path:
        path = _download(path)
    kind = checkpoint_format(path)
    path = osp.expanduser(path)
    if kind == 'safetensors':
        return _read_safetensors(path, map_location)
    try:
        checkpoint = load_weights_only(path, map_location)
    except UnsafeGlobals as error:
        raise _refused_pickle(path, error.names) from None
    except (RuntimeError, EOFError, pickle.UnpicklingError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else \
            type(error).__name__
        raise CheckpointError(f'{path} is damaged: torch could not read it ({reason}); '
                              f'fetch or save it again') from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{path} holds a {type(checkpoint).__name__}, not a dict of '
                              f'tensors or a checkpoint dict')
    return checkpoint


def read_checkpoints_in_mmengine() -> None:
    """Make mmengine read local and http(s) checkpoints with :func:`read_checkpoint`, so
    that ``load_from``, ``--resume``, ``runner.load_checkpoint`` and the inferencers read
    them weights-only on every supported torch (mmengine calls plain ``torch.load``, which
    runs pickles fully before torch 2.6), with errors that say what is wrong; and let plain
    ``torch.load`` read mmengine's checkpoints weights-only on torch >= 2.6
    (:func:`.weights_only.allow_mmengine_checkpoints`).

    This changes how the whole process loads checkpoints, so importing the package does not
    do it: this project's tools call it (``build_runner``), and a host project opts in with
    this one call.
    """
    allow_mmengine_checkpoints()
    from mmengine.runner import CheckpointLoader

    def load(filename: str, map_location: Any = None, **kwargs) -> dict:
        return read_checkpoint(filename, map_location)

    CheckpointLoader.register_scheme(prefixes=['', 'http://', 'https://'], loader=load,
                                     force=True)
