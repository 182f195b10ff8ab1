"""OpenVINO on the CPU: ONNX files and OpenVINO IR, fp32 or bf16, and NNCF's int8 IR."""
import math
import os.path as osp
import re
import warnings
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from mmfasternet.fileio import staged_files
from ..errors import CalibrationError, DeployError
from .base import (Feeds, Profile, Runtime, Shapes, cpu_name_and_flags, import_package,
                   onnx_metadata, package_version, register_runtime)

# The section of an OpenVINO IR model's runtime info that holds the exporter's metadata.
IR_METADATA = 'mmfasternet'
# The lines of OpenVINO's exceptions that say where, not what: ``Exception from
# src/inference/src/cpp/core.cpp:84:``, ``Check 'm_weights_provider' failed at
# src/core/...cpp:887:``; and the frontends it lists after a file it cannot read.
WHERE_LINE = re.compile(r"^(Exception from \S+:\d+:|Check '.*' failed at \S+:\d+:)$")
FRONTENDS = re.compile(r'\s*Available frontends:.*$')


def weight_bits() -> int:
    """The bits of NNCF's int8 weights for this CPU: 8 with VNNI (``avx512_vnni``,
    ``amx_int8``), whose int8 kernels add u8 x s8 products in 32 bits (7 in the first layer
    only, NNCF's default); 7 elsewhere (AVX2, AVX-512F), where pairs of products are added
    in 16 bits, which 8-bit weights overflow (NNCF's overflow fix in every layer). Toy demo
    detector (trained 8 epochs, as until 2026-12-07) bbox mAP: on the AMD EPYC (AVX2, toy
    scale) 0.727 with 8 bits and 0.738 with 7 (fp32 0.741); on the AMX Xeon (test rescaled
    to 333) 0.738 with 8 bits and 0.726 with 7 (fp32 0.739). The file keeps the count in
    its metadata (``weight_bits``): one made on a VNNI CPU loses accuracy on a CPU without
    it."""
    return 8 if OpenVino.runs_fast('int8') else 7


def fp32_ops(model, fp32_path: str, stays_fp32: Callable[[str], bool]) -> List[str]:
    """The ops of ``model`` (OpenVINO's reading of the ONNX file ``fp32_path``) that stay
    fp32: those named after a node that does, or that compute the output of an ONNX node
    that does (OpenVINO renames some, e.g. the last op after the graph's output)."""
    import onnx
    graph = onnx.load(fp32_path, load_external_data=False).graph
    tensors = {tensor for node in graph.node if stays_fp32(node.name) for tensor in node.output}
    return [op.get_friendly_name() for op in model.get_ordered_ops()
            if stays_fp32(op.get_friendly_name()) or any(
                tensors & output.get_names() for output in op.outputs())]


def _macs(node) -> float:
    """Multiply-adds of one node of OpenVINO's execution graph: a conv (its weight input is
    ``[out, in, kh, kw]``, or ``[groups, out, in, kh, kw]``) or a fully connected layer; 0
    where a shape is only known at run time (a detector's heads on its detections)."""
    kind = node.get_rt_info()['layerType'].astype(str)
    shapes = [node.input(i).get_partial_shape() for i in range(node.get_input_size())]
    if (len(shapes) < 2 or not all(shape.is_static for shape in shapes[:2])
            or not node.output(0).get_partial_shape().is_static):
        return 0.0
    data, weight = (list(shape.to_shape()) for shape in shapes[:2])
    out = list(node.output(0).get_shape())
    if kind.endswith('Convolution'):
        return math.prod(weight) * math.prod(out[2:]) * out[0]
    if kind.startswith('FullyConnected'):
        return math.prod(out) * data[-1]
    return 0.0


def read_model(core, path: str, shapes: Optional[Shapes] = None):
    """The OpenVINO model of ``path``, its inputs fixed to ``shapes`` where given: OpenVINO
    compiles faster kernels for fixed sizes than for a dynamic batch axis."""
    model = core.read_model(path)
    if shapes:
        model.reshape({name: list(shape) for name, shape in shapes.items()})
    return model


@register_runtime
class OpenVino(Runtime):
    """An ONNX file (or OpenVINO IR) compiled by OpenVINO for the CPU, for latency: one
    stream, ``threads`` threads, fp32 or bf16 inference precision (bf16 is a hint, not in
    the file: OpenVINO runs the fp32 ops in bf16 where the CPU has bf16 instructions). Its
    int8 files are NNCF's OpenVINO IR (``.xml`` and ``.bin``)."""
    name = 'openvino'
    package = 'openvino'
    extra = 'openvino'
    reads = ('.onnx', '.xml')
    precisions = ('fp32', 'bf16')
    int8_suffix = '.xml'
    fast_on = {'bf16': ('avx512_bf16', 'amx_bf16'), 'int8': ('avx512_vnni', 'amx_int8')}

    def __init__(self, path: str, threads: int = 1, precision: str = 'fp32',
                 shapes: Optional[Shapes] = None):
        import openvino as ov
        core = ov.Core()
        if precision == 'bf16' and 'BF16' not in core.get_property(
                'CPU', 'OPTIMIZATION_CAPABILITIES'):
            warnings.warn(f'this CPU ({cpu_name_and_flags()[0]}) has no bf16 instructions '
                          f'({" or ".join(self.fast_on["bf16"])}): OpenVINO runs fp32 '
                          f'instead of bf16', RuntimeWarning, stacklevel=3)
            precision = 'fp32'
        self.path, self.precision = path, precision
        model = read_model(core, path, shapes)
        self.compiled = self._compile(core, model, threads, precision)
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
        self.input_dtypes = {port.get_any_name(): np.dtype(port.get_element_type().to_dtype())
                             for port in model.inputs}
        self.output_names = [port.get_any_name() for port in model.outputs]
        if path.endswith('.xml'):
            info = model.get_rt_info()
            self.metadata = ({key: str(value.astype(str)) for key, value in
                              info[IR_METADATA].items()} if IR_METADATA in info else {})
        else:
            self.metadata = onnx_metadata(path)

    @staticmethod
    def _compile(core, model, threads: int, precision: str, **config):
        """``model`` compiled for latency: one stream, ``threads`` threads, ``precision``
        (fp32 or bf16) as the inference precision, ``config`` on top."""
        return core.compile_model(model, 'CPU', {
            'INFERENCE_PRECISION_HINT': 'bf16' if precision == 'bf16' else 'f32',
            'INFERENCE_NUM_THREADS': threads, 'NUM_STREAMS': 1,
            'PERFORMANCE_HINT': 'LATENCY', **config})

    def _run(self, feeds: Feeds) -> List[np.ndarray]:
        request = (self.compiled.create_infer_request() if self.fresh_requests
                   else self.request)
        request.infer(feeds)
        return [request.get_output_tensor(i).data.copy()
                for i in range(len(self.output_names))]

    @staticmethod
    def error_cause(error: Exception) -> str:
        """The lines of OpenVINO's ``error`` that say what is wrong, e.g. ``Empty weights
        data in bin file or bin file cannot be found!``, joined in one."""
        lines = [line.strip() for line in str(error).splitlines()]
        cause = ' '.join(line for line in lines if line and not WHERE_LINE.match(line))
        return FRONTENDS.sub('', cause) or Runtime.error_cause(error)

    @classmethod
    def files_of(cls, path: str) -> List[str]:
        return [path, osp.splitext(path)[0] + '.bin'] if path.endswith('.xml') else [path]

    @classmethod
    def profile(cls, path: str, feeds: Feeds, runs: int = 10, threads: int = 1,
                precision: str = 'fp32') -> Profile:
        """A kind is the operator's type, a conv's kernel size, and the kernel OpenVINO ran
        (``Convolution 1x1 jit_avx2_1x1_I8``, ``Concat ref_I8``): the kernel says whether it
        ran in int8, bf16 or fp32, and whether it is a fast (``jit``, ``brgconv``) or a
        reference (``ref``) implementation."""
        import openvino as ov
        core = ov.Core()
        model = read_model(core, path, {name: feed.shape for name, feed in feeds.items()})
        compiled = cls._compile(core, model, threads, precision, PERF_COUNT=True)
        nodes = {node.get_friendly_name(): node
                 for node in compiled.get_runtime_model().get_ordered_ops()}
        request = compiled.create_infer_request()
        for _ in range(3):
            request.infer(feeds)
        totals = defaultdict(lambda: [0.0, 0.0])
        for _ in range(runs):
            request.infer(feeds)
            for info in request.profiling_info:
                if info.status != info.Status.EXECUTED:
                    continue
                node, kind = nodes.get(info.node_name), info.node_type
                macs = _macs(node) if node is not None else 0.0
                if macs and kind.endswith('Convolution'):
                    kh, kw = list(node.input(1).get_shape())[-2:]
                    kind = f'{kind} {kh}x{kw}'
                key = f'{kind} {info.exec_type}'
                totals[key][0] += info.real_time.total_seconds() * 1e3 / runs
                totals[key][1] += macs / 1e9 / runs
        return {kind: tuple(value) for kind, value in totals.items()}

    @classmethod
    def quantizer(cls) -> str:
        return package_version('nncf')

    @classmethod
    def check_quantizable(cls, fp32_path: str) -> None:
        """NNCF is installed, and the graph has no If operators (an older export of a
        detector), which NNCF cannot quantise."""
        import_package('nncf', 'int8')
        import openvino as ov
        model = ov.Core().read_model(fp32_path)
        if any(op.get_type_name() == 'If' for op in model.get_ordered_ops()):
            raise DeployError(f'NNCF cannot quantise {fp32_path}: its graph has If '
                              f'operators (an older export of a detector); export it again '
                              f'with tools/deployment/pytorch2onnx.py, or quantise it for '
                              f'ONNX Runtime (--backend onnxruntime)')

    @classmethod
    def quantize(cls, fp32_path: str, out: str, feeds: Sequence[Feeds],
                 stays_fp32: Callable[[str], bool], metadata: Dict[str, str]) -> None:
        """``nncf.quantize`` on the OpenVINO model read from the ONNX file, saved as IR,
        with 8-bit weights on a CPU with VNNI or AMX and 7-bit ones elsewhere
        (:func:`weight_bits`) and activation ranges from the calibration set's extremes,
        calibrated on the images on which the fp32 model returns no empty output. NNCF
        quantises the inputs of convolutions and matrix products and leaves GELU, ReLU
        and the residual adds to OpenVINO's fused int8 kernels. (NNCF's ONNX output is not
        used: OpenVINO 2026.4 computes FasterNet wrongly from it, and ONNX Runtime runs it
        slower than fp32, since it fuses a conv into its int8 kernel only when the conv's
        output is quantised too.)"""
        import nncf
        import openvino as ov
        from nncf.quantization.advanced_parameters import (AdvancedQuantizationParameters,
                                                           OverflowFix)
        from nncf.quantization.range_estimator import RangeEstimatorParametersSet

        core = ov.Core()
        model = core.read_model(fp32_path)
        # NNCF takes an empty tensor's statistics for a range: one image on which a
        # detector finds nothing gives its mask head's input a range of [0, 8e-5] and every
        # mask is lost. Calibrate on the images on which the fp32 model returns no empty
        # output.
        compiled = core.compile_model(model, 'CPU')
        feeds = [feed for feed in feeds if all(
            out.size for out in compiled.create_infer_request().infer(feed).values())]
        if not feeds:
            raise CalibrationError(f'{fp32_path} returns empty outputs (no detections) on '
                                   f'every calibration image: train it, or calibrate on '
                                   f'other images')
        bits = weight_bits()
        metadata = dict(metadata, calibration_images=str(len(feeds)), weight_bits=str(bits))
        # Activation ranges from the calibration set's minimum and maximum (NNCF's default
        # averages each image's, and clips what FasterNet needs): on the AMD EPYC here, toy
        # classifier top-1 82.0 -> 87.5 (fp32 87.3).
        quantized = nncf.quantize(
            model, nncf.Dataset(feeds), subset_size=len(feeds),
            preset=nncf.QuantizationPreset.PERFORMANCE,
            advanced_parameters=AdvancedQuantizationParameters(
                overflow_fix=OverflowFix.FIRST_LAYER if bits == 8 else OverflowFix.ENABLE,
                activations_range_estimator_params=RangeEstimatorParametersSet.MINMAX),
            ignored_scope=nncf.IgnoredScope(names=fp32_ops(model, fp32_path, stays_fp32),
                                            validate=False))
        for key, value in metadata.items():
            quantized.set_rt_info(value, [IR_METADATA, key])
        # OpenVINO writes the files itself, and a full disk is a bare RuntimeError there:
        # staged in the temporary folder, then installed, the .bin first, the .xml last.
        with staged_files(cls.files_of(out)[::-1]) as staged:
            ov.save_model(quantized, staged[out], compress_to_fp16=False)
