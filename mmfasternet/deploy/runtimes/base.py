"""What every runtime is, the registry of them, and opening a file in one.

A runtime is one :class:`Runtime` subclass in its own module of this package, registered
with :func:`register_runtime`: its name (``--backend``), the package and the extra that
install it, the precisions it runs an fp32 file at, the CPU features each precision runs
fast with, its int8 quantiser and its per-operator profiler. Every tool opens a file
through :func:`open_runtime` and lists the runtimes from :data:`RUNTIMES`.
"""
import importlib
import os.path as osp
import platform
import re
from typing import Callable, ClassVar, Dict, List, Optional, Sequence, Set, Tuple, Type

import numpy as np

from mmfasternet.fileio import write_bytes_atomically
from ..errors import DeployError, MissingRuntime

Feeds = Dict[str, np.ndarray]
Shapes = Dict[str, Sequence[int]]
# Per operator kind: milliseconds and multiply-adds (G) per run (:meth:`Runtime.profile`).
Profile = Dict[str, Tuple[float, float]]


def _cpu_name_and_all_flags() -> Tuple[str, Set[str]]:
    """This machine's CPU model name and every flag of its ``/proc/cpuinfo``."""
    name, flags = platform.processor() or platform.machine(), set()
    if osp.exists('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as f:
            text = f.read()
        found = re.search(r'^model name\s*:\s*(.+)$', text, re.MULTILINE)
        name = found.group(1).strip() if found else name
        found = re.search(r'^flags\s*:\s*(.+)$', text, re.MULTILINE)
        flags = set(found.group(1).split()) if found else set()
    return name, flags


def isa_flags() -> List[str]:
    """The CPU flags (Linux ``/proc/cpuinfo`` names) any registered runtime runs a low
    precision fast with (:attr:`Runtime.fast_on`), sorted."""
    return sorted({flag for runtime in RUNTIMES.values()
                   for flags in runtime.fast_on.values() for flag in flags})


def cpu_name_and_flags() -> Tuple[str, List[str]]:
    """This machine's CPU model name and which of :func:`isa_flags` it has: what every speed
    figure is recorded with."""
    name, flags = _cpu_name_and_all_flags()
    return name, [flag for flag in isa_flags() if flag in flags]


def import_package(package: str, extra: str):
    """The module ``package``, or :class:`MissingRuntime` naming the ``extra`` of
    mmfasternet that installs it."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise MissingRuntime(f'{package} is not installed: pip install '
                             f'"mmfasternet[{extra}]"') from None


def onnx_metadata(path: str) -> Dict[str, str]:
    """The metadata properties an ONNX file records."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    return {prop.key: prop.value for prop in model.metadata_props}


def write_onnx(proto, path: str) -> int:
    """Write the ONNX ``proto`` (weights embedded) to ``path`` whole or not at all
    (:func:`~mmfasternet.fileio.write_bytes_atomically`); its size in bytes."""
    data = proto.SerializeToString()
    write_bytes_atomically(data, path)
    return len(data)


def package_version(package: str) -> str:
    """``'<package> <version>'``, as installed."""
    from importlib.metadata import version
    return f'{package} {version(package)}'


class Runtime:
    """A model file opened in one runtime, run with numpy arrays.

    A subclass sets the class attributes and, in ``__init__``, :attr:`path`,
    :attr:`precision`, :attr:`input_shapes`, :attr:`input_dtypes`, :attr:`output_names` and
    :attr:`metadata`; it implements :meth:`_run` and :meth:`quantize`. :meth:`run` checks
    every feed against the file's inputs (:meth:`check_feeds`) before the runtime sees it.

    Attributes:
        name (str): The name tools take (``--backend``).
        package (str): The Python package it runs with.
        extra (str): The extra of mmfasternet that installs it.
        reads (tuple[str]): The model files it opens, by suffix.
        precisions (tuple[str]): The precisions it runs an fp32 file at (int8 is a file
            of its own, made by :meth:`quantize`).
        int8_suffix (str): The file :meth:`quantize` writes.
        fast_on (dict): Precision (``'bf16'``, ``'int8'``) to the CPU flags, any one of
            which it runs that precision fast with (:meth:`runs_fast`); where a run
            precision needs them and the CPU has none, the runtime runs fp32 instead.
        path (str): The file opened.
        precision (str): The precision this file runs at.
        input_shapes (dict): Input names to shapes (``None`` for a dynamic size).
        input_dtypes (dict): Input names to their numpy dtypes (``None`` for an element
            type numpy has none of, unchecked).
        output_names (list[str]): The outputs, in order.
        metadata (dict): What the exporter recorded (``num_classes``, ``task``,
            ``batch_sizes``).
    """
    name: ClassVar[str]
    package: ClassVar[str]
    extra: ClassVar[str]
    reads: ClassVar[Tuple[str, ...]]
    precisions: ClassVar[Tuple[str, ...]]
    int8_suffix: ClassVar[str]
    fast_on: ClassVar[Dict[str, Tuple[str, ...]]] = {}

    path: str
    precision: str
    input_shapes: Dict[str, tuple]
    input_dtypes: Dict[str, np.dtype]
    output_names: List[str]
    metadata: Dict[str, str]

    def __init__(self, path: str, threads: int = 1, precision: str = 'fp32',
                 shapes: Optional[Shapes] = None):
        raise NotImplementedError

    @property
    def input_names(self) -> List[str]:
        return list(self.input_shapes)

    @property
    def batch_sizes(self) -> Optional[List[int]]:
        """The batch sizes the file's metadata ``batch_sizes`` allows (``'1'``, or a
        comma-separated list), for its image inputs (rank 4); ``None`` where it states
        none."""
        text = self.metadata.get('batch_sizes', '').replace(',', ' ').split()
        return [int(size) for size in text if size.isdigit()] or None

    def run(self, feeds: Feeds) -> List[np.ndarray]:
        """The outputs, in :attr:`output_names`' order, for one input of each name: a
        :class:`DeployError` for a feed the file does not take (:meth:`check_feeds`)."""
        self.check_feeds(feeds)
        return self._run(feeds)

    def _run(self, feeds: Feeds) -> List[np.ndarray]:
        """:meth:`run` on feeds already checked."""
        raise NotImplementedError

    def check_feeds(self, feeds: Feeds) -> None:
        """Raise one :class:`DeployError`, naming the file, the input, what it takes and
        what it got, unless ``feeds`` has exactly the file's inputs, each a numpy array of
        the input's dtype, rank and static sizes, none of them empty, and an image batch
        (rank 4) is one of the :attr:`batch_sizes` the file states."""
        if not isinstance(feeds, dict):
            raise DeployError(f'{self.path} takes a dict of its inputs {self.input_names} '
                              f'to numpy arrays, got a {type(feeds).__name__}')
        missing = [name for name in self.input_names if name not in feeds]
        unknown = [name for name in feeds if name not in self.input_shapes]
        if missing or unknown:
            problems = ([f'{", ".join(map(repr, missing))} missing'] if missing else []) + (
                [f'{", ".join(map(repr, unknown))} unknown'] if unknown else [])
            raise DeployError(f'{self.path} takes the inputs {self.input_names}, got '
                              f'{list(feeds)}: {" and ".join(problems)}')
        for name in self.input_names:
            self._check_input(name, feeds[name])

    def _check_input(self, name: str, value) -> None:
        """Raise :class:`DeployError` unless ``value`` is what the input ``name`` takes."""
        where = f'{self.path}: input {name!r}'
        if not isinstance(value, np.ndarray):
            kind = type(value)
            raise DeployError(f'{where} takes a numpy array, got a {kind.__module__}.'
                              f'{kind.__qualname__}')
        dtype = self.input_dtypes.get(name)
        if dtype is not None and value.dtype != dtype:
            raise DeployError(f'{where} takes {dtype} values, got {value.dtype} ones: '
                              f'convert them (.astype(np.{dtype}))')
        shape = self.input_shapes[name]
        expected = '(' + ', '.join('?' if size is None else str(size) for size in shape) + (
            ',)' if len(shape) == 1 else ')')
        if value.ndim != len(shape):
            raise DeployError(f'{where} takes shape {expected} ({len(shape)} axes), got '
                              f'{value.shape} ({value.ndim} axes)')
        batches = self.batch_sizes if len(shape) == 4 else None
        if batches is not None and value.shape[0] not in batches:
            raise DeployError(f'{where} takes batches of {" or ".join(map(str, batches))} '
                              f'(the file\'s batch_sizes), got a batch of {value.shape[0]} '
                              f'{value.shape}')
        for axis, (size, got) in enumerate(zip(shape, value.shape)):
            if (size is not None and got != size) or got == 0:
                taken = 'any size but 0' if size is None else size
                raise DeployError(f'{where} takes shape {expected}, got {value.shape}: axis '
                                  f'{axis} is {got}, where the file takes {taken}')

    @staticmethod
    def error_cause(error: Exception) -> str:
        """What ``error``, raised by the runtime on opening a file, says is wrong, in one
        line: its first line by default."""
        text = str(error).strip()
        return text.splitlines()[0] if text else repr(error)

    @classmethod
    def runs_fast(cls, precision: str) -> bool:
        """Whether this CPU has one of the flags :attr:`fast_on` names for ``precision``
        (true for a precision that needs none)."""
        needs = cls.fast_on.get(precision)
        return not needs or bool(set(needs) & _cpu_name_and_all_flags()[1])

    @classmethod
    def profile(cls, path: str, feeds: Feeds, runs: int = 10, threads: int = 1,
                precision: str = 'fp32') -> Profile:
        """Where this runtime spends its time on the file ``path`` run on ``feeds`` at
        ``precision``: for each kind of operator, milliseconds and multiply-adds (G) per
        run, over ``runs`` runs after 3 warm-up runs."""
        raise DeployError(f'{cls.name} has no per-operator profiler: implement '
                          f'{cls.__name__}.profile')

    @classmethod
    def files_of(cls, path: str) -> List[str]:
        """The files a model written to ``path`` consists of."""
        return [path]

    @classmethod
    def quantizer(cls) -> str:
        """The quantiser and its version, as an int8 file records it."""
        raise NotImplementedError

    @classmethod
    def check_quantizable(cls, fp32_path: str) -> None:
        """Raise :class:`DeployError` before any work when ``fp32_path`` cannot be
        quantised for this runtime (its packages are checked already)."""

    @classmethod
    def quantize(cls, fp32_path: str, out: str, feeds: Sequence[Feeds],
                 stays_fp32: Callable[[str], bool], metadata: Dict[str, str]) -> None:
        """Write the int8 model of ``fp32_path``, calibrated on ``feeds``, to ``out`` in one
        step (:mod:`mmfasternet.fileio`: a full disk is a
        :class:`~mmfasternet.fileio.NoSpaceLeft`), with ``metadata``; the nodes (by name)
        for which ``stays_fp32`` holds stay fp32."""
        raise NotImplementedError


RUNTIMES: Dict[str, Type[Runtime]] = {}


def register_runtime(cls: Type[Runtime]) -> Type[Runtime]:
    """Add the runtime ``cls`` to :data:`RUNTIMES` under its name."""
    RUNTIMES[cls.name] = cls
    return cls


def all_precisions() -> List[str]:
    """Every precision a registered runtime runs an fp32 file at."""
    return sorted({p for runtime in RUNTIMES.values() for p in runtime.precisions})


def runtime_class(backend: str) -> Type[Runtime]:
    """The registered runtime ``backend``, with its package installed."""
    if backend not in RUNTIMES:
        raise DeployError(f'backend must be one of {list(RUNTIMES)}, got {backend!r}')
    runtime = RUNTIMES[backend]
    import_package(runtime.package, runtime.extra)
    return runtime


def open_runtime(path: str, backend: str = 'onnxruntime', precision: str = 'fp32',
                 threads: int = 1, shapes: Optional[Shapes] = None,
                 inputs: Optional[Sequence[str]] = None,
                 outputs: Optional[Sequence[str]] = None, what: str = 'model') -> Runtime:
    """Open a file a user names in ``backend``, with one clear :class:`DeployError` when it is
    missing, unreadable, or does not take ``inputs`` and return ``outputs``.

    Args:
        path (str): An ``.onnx`` file (fp32 or int8) or, for OpenVINO, an IR ``.xml``.
        backend (str): One of :data:`RUNTIMES`; ``'onnxruntime'`` by default.
        precision (str): One of the runtime's ``precisions`` (``'bf16'`` in OpenVINO is a
            precision hint; a CPU without bf16 runs fp32, and says so).
        threads (int): Intra-op threads; 1 is the paper's latency protocol. Defaults to 1.
        shapes (dict, optional): The only input shapes it will be run with (a benchmark's),
            for the runtimes that compile faster kernels for fixed sizes (OpenVINO: 6% on
            FasterNet-T0 at batch 1, 1 thread, AVX-512 EPYC); by default the file's own,
            dynamic ones.
        inputs (Sequence[str], optional): The input names the file must have, in order.
        outputs (Sequence[str], optional): The output names it must have, in order.
        what (str): What the file should be, for the message, e.g. ``'an exported
            detector'``.
    """
    runtime = runtime_class(backend)
    if precision not in runtime.precisions:
        others = [name for name, other in RUNTIMES.items() if precision in other.precisions]
        hint = (f': add --backend {others[0]}' if others else
                ' (int8 is a quantised file: tools/deployment/quantize.py)')
        raise DeployError(f'{backend} runs {" and ".join(runtime.precisions)}, not '
                          f'{precision!r}{hint}')
    if not osp.isfile(path):
        raise DeployError(f'{path} does not exist')
    suffix = osp.splitext(path)[1]
    if suffix not in runtime.reads:
        readers = [name for name, other in RUNTIMES.items() if suffix in other.reads]
        raise DeployError(f'{backend} does not read {suffix} files ({path})'
                          + (f': add --backend {readers[0]}' if readers else
                             f'; it reads {" and ".join(runtime.reads)} files'))
    try:
        model = runtime(path, threads, precision, shapes)
    except Exception as error:  # each runtime raises its own exception types
        raise DeployError(f'{path} is not a model file {runtime.package} can read: '
                          f'{runtime.error_cause(error)}') from None
    got_in, got_out = model.input_names, model.output_names
    if (inputs is not None and got_in != list(inputs)) or (
            outputs is not None and got_out != list(outputs)):
        raise DeployError(f'{path} is not {what}: it takes {got_in} and returns {got_out}, '
                          f'where {what} written by tools/deployment/pytorch2onnx.py takes '
                          f'{list(inputs or got_in)} and returns {list(outputs or got_out)}')
    return model
