"""One interface over the CPU runtimes an exported model runs in: ONNX Runtime (the default)
and OpenVINO, in the precision asked for.

A file holds fp32 or int8 weights and activations (int8: quantised by
:func:`mmfasternet.deploy.quantization.quantize_model`); bf16 is not in the file but a
precision hint to OpenVINO, which then runs the fp32 ops in bf16 where the CPU has bf16
instructions. Every tool opens a file through :func:`open_runtime`.
"""
import os.path as osp
import re
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmfasternet.errors import MMFasterNetError

BACKENDS = ('onnxruntime', 'openvino')
# The section of an OpenVINO IR model's runtime info that holds the exporter's metadata.
IR_METADATA = 'mmfasternet'
# The optional packages of deployment and the extra of this package that installs each.
EXTRAS = {'onnxruntime': 'deploy', 'openvino': 'openvino', 'nncf': 'int8'}
PRECISIONS = ('fp32', 'bf16')
# The CPU flags each low precision runs fast with (Linux /proc/cpuinfo names).
ISA_FLAGS = ('avx512_vnni', 'avx512_bf16', 'amx_int8', 'amx_bf16')


class DeployError(MMFasterNetError, ValueError):
    """A deployment input a user can fix (a file, a runtime, a precision, calibration data);
    the message says what is wrong and how to fix it."""


class MissingRuntime(DeployError):
    """The runtime asked for is not installed; the message names the extra to install."""


def cpu_name_and_flags() -> tuple:
    """This machine's CPU model name and which of :data:`ISA_FLAGS` it has."""
    import platform
    name, flags = platform.processor() or platform.machine(), set()
    if osp.exists('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as f:
            text = f.read()
        found = re.search(r'^model name\s*:\s*(.+)$', text, re.MULTILINE)
        name = found.group(1).strip() if found else name
        found = re.search(r'^flags\s*:\s*(.+)$', text, re.MULTILINE)
        flags = set(found.group(1).split()) if found else set()
    return name, [flag for flag in ISA_FLAGS if flag in flags]


def import_runtime(package: str):
    """The module of one of :data:`EXTRAS`, or :class:`MissingRuntime` naming the extra."""
    import importlib
    if package not in EXTRAS:
        raise DeployError(f'backend must be one of {list(BACKENDS)}, got {package!r}')
    try:
        return importlib.import_module(package)
    except ImportError:
        raise MissingRuntime(f'{package} is not installed: pip install '
                             f'"mmfasternet[{EXTRAS[package]}]"') from None


class RuntimeModel:
    """A model file opened in one runtime, run with numpy arrays.

    Attributes:
        backend (str): ``'onnxruntime'`` or ``'openvino'``.
        precision (str): The precision the runtime was asked to run fp32 ops at.
        input_shapes (dict): Input names to shapes (``None`` for a dynamic size).
        output_names (list[str]): The outputs, in order.
        metadata (dict): What the exporter recorded (``num_classes``, ``task``).
    """
    backend: str
    precision: str
    input_shapes: Dict[str, tuple]
    output_names: List[str]
    metadata: Dict[str, str]

    @property
    def input_names(self) -> List[str]:
        return list(self.input_shapes)

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """The outputs, in :attr:`output_names`' order, for one input of each name."""
        raise NotImplementedError


class OnnxRuntimeBackend(RuntimeModel):
    """An ONNX file in ONNX Runtime's CPU provider, all graph optimisations on."""

    def __init__(self, path: str, threads: int = 1):
        from .onnxruntime import onnxruntime_session
        self.backend, self.precision = 'onnxruntime', 'fp32'
        self.session = onnxruntime_session(path, threads)
        self.input_shapes = {
            i.name: tuple(d if isinstance(d, int) else None for d in i.shape)
            for i in self.session.get_inputs()}
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        return self.session.run(None, feeds)


class OpenVinoBackend(RuntimeModel):
    """An ONNX file (or OpenVINO IR) compiled by OpenVINO for the CPU, for latency: one
    stream, ``threads`` threads, fp32 or bf16 inference precision."""

    def __init__(self, path: str, threads: int = 1, precision: str = 'fp32'):
        import openvino as ov
        core = ov.Core()
        if precision == 'bf16' and 'BF16' not in core.get_property(
                'CPU', 'OPTIMIZATION_CAPABILITIES'):
            warnings.warn(f'this CPU ({cpu_name_and_flags()[0]}) has no bf16 instructions '
                          f'(avx512_bf16 or amx_bf16): OpenVINO runs fp32 instead of bf16',
                          RuntimeWarning, stacklevel=2)
            precision = 'fp32'
        self.backend, self.precision = 'openvino', precision
        model = core.read_model(path)
        self.compiled = core.compile_model(model, 'CPU', {
            'INFERENCE_PRECISION_HINT': 'bf16' if precision == 'bf16' else 'f32',
            'INFERENCE_NUM_THREADS': threads, 'NUM_STREAMS': 1,
            'PERFORMANCE_HINT': 'LATENCY'})
        self.request = self.compiled.create_infer_request()
        # OpenVINO's CPU plugin (2026.4 and before) does not resize a reused request's
        # output to an empty one: a detector that finds nothing would return the previous
        # image's detections. A model with dynamic outputs gets a new request per run
        # (0.03 ms on the AMD EPYC here, against 50 ms for the toy detector).
        self.fresh_requests = any(port.get_partial_shape().is_dynamic
                                  for port in model.outputs)
        self.input_shapes = {
            port.get_any_name(): tuple(d.get_length() if d.is_static else None
                                       for d in port.get_partial_shape())
            for port in model.inputs}
        self.output_names = [port.get_any_name() for port in model.outputs]
        if path.endswith('.xml'):
            info = model.get_rt_info()
            self.metadata = ({key: str(value.astype(str)) for key, value in
                              info[IR_METADATA].items()} if IR_METADATA in info else {})
        else:
            self.metadata = onnx_metadata(path)

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        request = (self.compiled.create_infer_request() if self.fresh_requests
                   else self.request)
        request.infer(feeds)
        return [request.get_output_tensor(i).data.copy()
                for i in range(len(self.output_names))]


def onnx_metadata(path: str) -> Dict[str, str]:
    """The metadata properties an ONNX file records."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    return {prop.key: prop.value for prop in model.metadata_props}


def open_runtime(path: str, backend: str = 'onnxruntime', precision: str = 'fp32',
                 threads: int = 1, inputs: Optional[Sequence[str]] = None,
                 outputs: Optional[Sequence[str]] = None, what: str = 'model') -> RuntimeModel:
    """Open a file a user names in ``backend``, with one clear :class:`DeployError` when it is
    missing, unreadable, or does not take ``inputs`` and return ``outputs``.

    Args:
        path (str): An ``.onnx`` file (fp32 or int8) or, for OpenVINO, an IR ``.xml``.
        backend (str): ``'onnxruntime'`` (default) or ``'openvino'``.
        precision (str): ``'fp32'`` or ``'bf16'`` (OpenVINO only: a precision hint; a CPU
            without bf16 runs fp32, and says so).
        threads (int): Intra-op threads; 1 is the paper's latency protocol. Defaults to 1.
        inputs (Sequence[str], optional): The input names the file must have, in order.
        outputs (Sequence[str], optional): The output names it must have, in order.
        what (str): What the file should be, for the message, e.g. ``'an exported
            detector'``.
    """
    if backend not in BACKENDS:
        raise DeployError(f'backend must be one of {list(BACKENDS)}, got {backend!r}')
    runtime = import_runtime(backend)
    if precision not in PRECISIONS:
        raise DeployError(f'precision must be one of {list(PRECISIONS)}, got {precision!r} '
                          f'(int8 is a quantised file: tools/deployment/quantize.py)')
    if precision == 'bf16' and backend != 'openvino':
        raise DeployError('bf16 is an OpenVINO precision hint: add --backend openvino '
                          '(ONNX Runtime runs fp32 and int8 files)')
    if not osp.isfile(path):
        raise DeployError(f'{path} does not exist')
    if path.endswith('.xml') and backend != 'openvino':
        raise DeployError(f'{path} is an OpenVINO IR model: add --backend openvino')
    try:
        if backend == 'openvino':
            model = OpenVinoBackend(path, threads, precision)
        else:
            model = OnnxRuntimeBackend(path, threads)
    except Exception as error:  # each runtime raises its own exception types
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise DeployError(f'{path} is not a model file {runtime.__name__} can read: '
                          f'{message}') from None
    got_in, got_out = model.input_names, model.output_names
    if (inputs is not None and got_in != list(inputs)) or (
            outputs is not None and got_out != list(outputs)):
        raise DeployError(f'{path} is not {what}: it takes {got_in} and returns {got_out}, '
                          f'where {what} written by tools/deployment/pytorch2onnx.py takes '
                          f'{list(inputs or got_in)} and returns {list(outputs or got_out)}')
    return model
