"""Weights-only unpickling that also reads the checkpoints mmengine writes, on every
supported torch.

A checkpoint is tensors and plain data, but mmengine 0.10 also pickles its ``message_hub``
(``HistoryBuffer`` objects holding NumPy arrays and scalars). Both paths below resolve only
allow-listed globals, so a pickle that names anything else is refused before anything is
called:

- torch >= 2.6: torch's own weights-only unpickler (its default), with mmengine's data
  classes added by ``torch.serialization.add_safe_globals``, which takes the
  ``(object, pickled name)`` pairs needed here from 2.6 on.
- older torch: ``torch.load`` with an unpickler whose ``find_class`` serves torch's own
  weights-only allow-list plus the same mmengine data classes, and nothing else.
"""
import _compat_pickle
import codecs
import functools
import importlib
import pickle
import types
from typing import Any, Dict, List, Tuple

import torch

from mmfasternet.compat import torch_at_least
from mmfasternet.errors import MMFasterNetError

TORCH_ALLOWS_MMENGINE_GLOBALS = torch_at_least(2, 6)


class UnsafeGlobals(MMFasterNetError, pickle.UnpicklingError):
    """A pickle names globals that weights-only loading refuses.

    Args:
        names (list[str]): The refused globals, as ``module.name``.
    """

    def __init__(self, names: List[str]):
        super().__init__(f'weights-only loading refuses {", ".join(names)}')
        self.names = names


def _history_buffer_statistic(owner: type, name: str):
    """Stand-in for ``getattr`` while unpickling a checkpoint.

    mmengine's ``HistoryBuffer.__getstate__`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')`` and so on. A general ``getattr`` would let a crafted
    file reach any attribute of an allowed object (``ndarray.tofile``, say), so only these
    lookups are served.
    """
    from mmengine.logging import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({owner!r}, {name!r}) in a checkpoint: only the statistics '
        f'methods of mmengine\'s HistoryBuffer may be looked up')


def mmengine_checkpoint_globals() -> Dict[str, Any]:
    """The non-tensor globals of mmengine 0.10 checkpoints, by their pickled names.

    NumPy's array-reconstruction functions are listed under both NumPy 1 (``numpy.core``)
    and NumPy 2 (``numpy._core``) names, so a checkpoint written with either loads with
    either.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer

    numpy_2 = int(np.__version__.split('.')[0]) >= 2
    multiarray = importlib.import_module(
        'numpy._core.multiarray' if numpy_2 else 'numpy.core.multiarray')
    named = {'numpy.ndarray': np.ndarray, 'numpy.dtype': np.dtype,
             'builtins.getattr': _history_buffer_statistic,
             f'{HistoryBuffer.__module__}.{HistoryBuffer.__qualname__}': HistoryBuffer}
    for core in ('numpy.core', 'numpy._core'):
        named[f'{core}.multiarray._reconstruct'] = multiarray._reconstruct
        named[f'{core}.multiarray.scalar'] = multiarray.scalar
    for name in ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32',
                 'uint64', 'float16', 'float32', 'float64'):
        dtype_class = type(np.dtype(name))
        named[f'{dtype_class.__module__}.{dtype_class.__qualname__}'] = dtype_class
    return named


@functools.lru_cache(maxsize=None)
def _safe_globals() -> List[Tuple[Any, str]]:
    """mmengine's data classes as torch >= 2.6 allow-lists them: (object, pickled name)."""
    return [(obj, name) for name, obj in mmengine_checkpoint_globals().items()]


def allow_mmengine_checkpoints() -> None:
    """On torch >= 2.6, let ``torch.load(..., weights_only=True)`` (its default) read the
    checkpoints mmengine writes, in the whole process, so that plain ``torch.load`` calls
    (mmengine's among them) work without turning weights-only loading off. Older torch
    loads pickles fully by default; this package reads every checkpoint through
    :func:`load_weights_only` there."""
    if TORCH_ALLOWS_MMENGINE_GLOBALS:
        torch.serialization.add_safe_globals(_safe_globals())


@functools.lru_cache(maxsize=None)
def _allow_list() -> Dict[str, Any]:
    from torch._weights_only_unpickler import _get_allowed_globals

    # Pickle protocol 2 (torch.save's) writes bytes as _codecs.encode(text, 'latin1'); torch
    # >= 2.6 allows it too.
    return {**_get_allowed_globals(), **mmengine_checkpoint_globals(),
            '_codecs.encode': codecs.encode}


class _Refused:
    """What the allow-list unpickler puts in the place of a refused global: it takes any
    arguments and state and does nothing, so that the rest of the pickle is read and every
    global it names is known (the first refused one may be harmless, a later one not)."""

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass


class _AllowListUnpickler(pickle.Unpickler):
    """Resolves only torch's weights-only allow-list and mmengine's data classes; reads
    the whole pickle with inert stand-ins for the other globals, then raises
    :class:`UnsafeGlobals` naming all of them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.refused: List[str] = []

    def find_class(self, module: str, name: str) -> Any:
        # Protocol 2 (torch.save's) names Python 2 modules, e.g. __builtin__.getattr.
        module, name = _compat_pickle.NAME_MAPPING.get(
            (module, name), (_compat_pickle.IMPORT_MAPPING.get(module, module), name))
        obj = _allow_list().get(f'{module}.{name}')
        if obj is None:
            if f'{module}.{name}' not in self.refused:
                self.refused.append(f'{module}.{name}')
            return _Refused
        return obj

    def load(self) -> Any:
        try:
            loaded = super().load()
        except Exception:
            if self.refused:  # an allowed function given a stand-in: the refusal says why
                raise UnsafeGlobals(self.refused) from None
            raise
        if self.refused:
            raise UnsafeGlobals(self.refused)
        return loaded


def _load_pickle(file, **kwargs) -> Any:
    return _AllowListUnpickler(file, **kwargs).load()


_ALLOW_LIST_PICKLE = types.SimpleNamespace(
    __name__='mmfasternet_allow_list_pickle', Unpickler=_AllowListUnpickler, load=_load_pickle)


def load_weights_only(path: str, map_location: Any = 'cpu') -> Any:
    """``torch.load`` a file without running any code in it.

    Args:
        path (str): A local checkpoint file.
        map_location: As for ``torch.load``. Defaults to ``'cpu'``.

    Raises:
        UnsafeGlobals: The pickle names a global outside the allow-list; nothing ran.
    """
    if not TORCH_ALLOWS_MMENGINE_GLOBALS:
        return torch.load(path, map_location=map_location, pickle_module=_ALLOW_LIST_PICKLE,
                          weights_only=False)
    with torch.serialization.safe_globals(_safe_globals()):
        try:
            return torch.load(path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            message = str(error)
            reason = ' '.join(message.partition('WeightsUnpickler error:')[2]
                              .split('Check the documentation')[0].split()) or message
            raise UnsafeGlobals(torch.serialization.get_unsafe_globals_in_checkpoint(path)
                                or [reason]) from None
