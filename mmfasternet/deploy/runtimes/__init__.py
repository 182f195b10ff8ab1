"""The CPU runtimes an exported model runs in, one module each, registered in
:data:`RUNTIMES` (see :mod:`.base`): ONNX Runtime, the default, and OpenVINO. Their packages
are imported when a file is opened."""
from .base import (RUNTIMES, Runtime, all_precisions, cpu_name_and_flags, open_runtime,
                   register_runtime, runtime_class)
from .onnxruntime import OnnxRuntime
from .openvino import OpenVino

__all__ = [
    'RUNTIMES', 'OnnxRuntime', 'OpenVino', 'Runtime', 'all_precisions', 'cpu_name_and_flags',
    'open_runtime', 'register_runtime', 'runtime_class'
]
