"""ONNX Runtime's CPU provider: fp32 and QDQ int8 ONNX files (the default runtime)."""
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from mmfasternet.fileio import temporary_folder
from .base import Feeds, Runtime, Shapes, package_version, register_runtime, write_onnx

# What ONNX Runtime's quantiser may quantise: the network's own operators (ReLU and Clip
# fold into the conv before them; Split and Concat keep their input's scale).
QUANTIZED_TYPES = ('Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Relu', 'Clip', 'Add', 'Split',
                   'Concat', 'MaxPool')
# ONNX Runtime's element types (``NodeArg.type``) to numpy's.
DTYPES = {f'tensor({onnx_type})': np.dtype(dtype) for onnx_type, dtype in (
    ('float', 'float32'), ('double', 'float64'), ('float16', 'float16'), ('bool', 'bool'),
    *((kind, kind) for kind in ('int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
                                'uint32', 'uint64')))}


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
