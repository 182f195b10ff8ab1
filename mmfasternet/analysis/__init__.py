"""Measuring models: params and FLOPs (:mod:`.complexity`), CPU latency on every inference
path (:mod:`.latency`), GPU throughput in every precision (:mod:`.throughput`), the
operators of the paper's Tab. 1 (:mod:`.operators`), the peers FasterNet is compared with
(:mod:`.peers`) and the latency-accuracy front among them (:mod:`.front`), the kernel
floor of a model's deploy form (:mod:`.kernel_floor`), where ONNX Runtime and OpenVINO spend
their time (:mod:`.onnxruntime_profile`, :mod:`.openvino_profile`) and where a model's GPU
time goes by kind of kernel (:mod:`.kernel_profile`)."""
from .complexity import (TensorForward, build_model, complexity, count_model, load_config,
                         tensor_model)
from .latency import (INFERENCE_PATHS, MATMUL_MACS, MATMUL_SIZE, build_classifier, inference_path,
                      interleaved_latency_ms, matmul_call)
from .onnxruntime_profile import profile_onnxruntime
from .openvino_profile import profile_openvino
from .operators import OPERATOR_KINDS, operator_stack

__all__ = [
    'INFERENCE_PATHS', 'MATMUL_MACS', 'MATMUL_SIZE', 'OPERATOR_KINDS', 'TensorForward',
    'build_classifier', 'build_model', 'complexity', 'count_model', 'inference_path',
    'interleaved_latency_ms', 'load_config', 'matmul_call', 'operator_stack',
    'profile_onnxruntime', 'profile_openvino', 'tensor_model'
]
