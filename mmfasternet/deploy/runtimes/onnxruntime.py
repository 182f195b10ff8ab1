"""ONNX Runtime's CPU provider: fp32 and QDQ int8 ONNX files (the default runtime)."""
import json
import math
import os.path as osp
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from mmfasternet.fileio import temporary_folder
from .base import Feeds, Profile, Runtime, Shapes, package_version, register_runtime, write_onnx

# What ONNX Runtime's quantiser may quantise: the network's own operators (ReLU and Clip
# fold into the conv before them; Split and Concat keep their input's scale).
QUANTIZED_TYPES = ('Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Relu', 'Clip', 'Add', 'Split',
                   'Concat', 'MaxPool')
# ONNX Runtime's element types (``NodeArg.type``) to numpy's.
DTYPES = {f'tensor({onnx_type})': np.dtype(dtype) for onnx_type, dtype in (
    ('float', 'float32'), ('double', 'float64'), ('float16', 'float16'), ('bool', 'bool'),
    *((kind, kind) for kind in ('int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
                                'uint32', 'uint64')))}
# Where each operator that ONNX Runtime runs a conv or matrix product with keeps its weight.
WEIGHT_INPUT = {'Conv': 1, 'FusedConv': 1, 'QLinearConv': 3, 'Gemm': 1, 'FusedGemm': 1,
                'MatMul': 1, 'QGemm': 3}


@register_runtime
class OnnxRuntime(Runtime):
    """An ONNX file in ONNX Runtime's CPU provider, all graph optimisations on. Its int8
    files are ``quantize_static``'s QDQ ONNX files: per-channel int8 weights, uint8
    activations (OpenVINO runs them too). It runs a dynamic axis as fast as a fixed one
    (FasterNet-T0, batch 1, 1 thread, AVX-512 EPYC: 8.38 ms against 8.41), so it takes no
    ``shapes``."""
    name = 'onnxruntime'
    package = 'onnxruntime'
    extra = 'deploy'
    reads = ('.onnx', )
    precisions = ('fp32', )
    int8_suffix = '.onnx'
    fast_on = {'int8': ('avx512_vnni', 'amx_int8')}

    def __init__(self, path: str, threads: int = 1, precision: str = 'fp32',
                 shapes: Optional[Shapes] = None):
        self.path, self.precision = path, precision
        self.session = self.session_of(path, threads)
        self.input_shapes = {
            i.name: tuple(d if isinstance(d, int) else None for d in i.shape)
            for i in self.session.get_inputs()}
        self.input_dtypes = {i.name: DTYPES.get(i.type) for i in self.session.get_inputs()}
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)

    @staticmethod
    def session_of(model: Union[str, bytes], threads: int = 1, **options):
        """An ONNX Runtime CPU session with all graph optimisations on ``threads`` intra-op
        threads (1 is the paper's latency protocol) and one inter-op thread.

        Args:
            model (str | bytes): An ``.onnx`` file or a serialised model.
            threads (int): Intra-op threads. Defaults to 1.
            **options: Further ``SessionOptions`` attributes, e.g. ``enable_profiling``.
        """
        import onnxruntime as ort
        session_options = ort.SessionOptions()
        session_options.intra_op_num_threads = threads
        session_options.inter_op_num_threads = 1
        session_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        for key, value in options.items():
            setattr(session_options, key, value)
        return ort.InferenceSession(model, session_options,
                                    providers=['CPUExecutionProvider'])

    def _run(self, feeds: Feeds) -> List[np.ndarray]:
        return self.session.run(None, feeds)

    @classmethod
    def profile(cls, path: str, feeds: Feeds, runs: int = 10, threads: int = 1,
                precision: str = 'fp32') -> Profile:
        """Convs are told apart by operator (``Conv``, or ``QLinearConv`` in an int8 file),
        kernel size and being depthwise or not; other operators by type. Multiply-adds are
        counted for convs and matrix products as ONNX Runtime computes them, from the
        weights of its optimised graph: its blocked (NCHWc) fp32 convs pad channel counts
        below the block size (8 or 16, by CPU)."""
        import onnx
        warmup = 3
        with temporary_folder() as folder:
            optimized_path = osp.join(folder, 'optimized.onnx')
            session = cls.session_of(
                path, threads, enable_profiling=True,
                profile_file_prefix=osp.join(folder, 'profile'),
                optimized_model_filepath=optimized_path,
                log_severity_level=3)  # saving a blocked-layout graph warns that it is
            for _ in range(warmup + runs):
                session.run(None, feeds)
            with open(session.end_profiling()) as f:
                events = json.load(f)
            optimized = onnx.load(optimized_path)
        shapes = {tensor.name: list(tensor.dims) for tensor in optimized.graph.initializer}
        weights = {node.name: shapes.get(node.input[WEIGHT_INPUT[node.op_type]])
                   for node in optimized.graph.node if node.op_type in WEIGHT_INPUT}
        first_timed = sorted(e['ts'] for e in events if e.get('name') == 'model_run')[warmup]
        totals = defaultdict(lambda: [0.0, 0.0])
        for event in events:
            if (event.get('cat') != 'Node' or not event['name'].endswith('_kernel_time')
                    or event['ts'] < first_timed):
                continue
            kind, macs = event['args']['op_name'], 0.0
            weight = weights.get(event['name'][:-len('_kernel_time')])
            out = list(event['args']['output_type_shape'][0].values())[0]
            if weight and 'Conv' in kind:
                # weight[0] output channels; the rest of ``out`` is batch and pixels in any
                # layout
                macs = math.prod(weight) * math.prod(out) / weight[0]
                depthwise = weight[1] == 1 and weight[0] > 1
                kind = f'{kind} {weight[2]}x{weight[3]}{" depthwise" if depthwise else ""}'
            elif kind in WEIGHT_INPUT:
                first = list(event['args']['input_type_shape'][0].values())[0]
                macs = math.prod(out) * first[-1]
            totals[kind][0] += event['dur'] / 1e3 / runs
            totals[kind][1] += macs / 1e9 / runs
        return {kind: tuple(value) for kind, value in totals.items()}

    @classmethod
    def quantizer(cls) -> str:
        return f'{package_version("onnxruntime")} quantize_static'

    @classmethod
    def quantize(cls, fp32_path: str, out: str, feeds: Sequence[Feeds],
                 stays_fp32: Callable[[str], bool], metadata: Dict[str, str]) -> None:
        import onnx
        from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                              quantize_static)

        class Reader(CalibrationDataReader):

            def __init__(self):
                self.feeds = iter(feeds)

            def get_next(self) -> Optional[Feeds]:
                return next(self.feeds, None)

        graph = onnx.load(fp32_path, load_external_data=False).graph
        # quantize_static writes its file itself: into a temporary folder, then the file
        # with its metadata goes to ``out`` in one step, its size known.
        with temporary_folder() as folder:
            quantized_path = osp.join(folder, 'int8.onnx')
            quantize_static(fp32_path, quantized_path, Reader(), quant_format=QuantFormat.QDQ,
                            per_channel=True, activation_type=QuantType.QUInt8,
                            weight_type=QuantType.QInt8,
                            op_types_to_quantize=list(QUANTIZED_TYPES),
                            nodes_to_exclude=[n.name for n in graph.node if stays_fp32(n.name)])
            quantized = onnx.load(quantized_path)
        del quantized.metadata_props[:]
        onnx.helper.set_model_props(quantized, metadata)
        write_onnx(quantized, out)
