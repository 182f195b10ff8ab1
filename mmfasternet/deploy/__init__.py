"""Deployment: BN folding for every model (:mod:`.folding`), ONNX export of backbones and
classifiers (:mod:`.export`), the runtimes that run the files, ONNX Runtime and OpenVINO
(:mod:`.runtimes`), int8 quantisation calibrated on a config's data (:mod:`.quantization`),
whole Mask R-CNN detectors with their post-processing (:mod:`.detector`), mmseg segmentors
(:mod:`.segmentor`) and the runtime models that ``tools/test.py`` evaluates files with
(:mod:`.evaluation`, :mod:`.classifier`). Those that need mmdet, mmseg, mmpretrain, NNCF or
OpenVINO are imported on use."""
from .export import NotExportable, check_input_size, export_onnx, require_exportable
from .folding import switch_to_deploy
from .onnxruntime import OnnxRuntimeModel, onnxruntime_session
from .runtimes import (BACKENDS, PRECISIONS, DeployError, MissingRuntime, RuntimeModel,
                       open_runtime)

__all__ = [
    'BACKENDS', 'DeployError', 'MissingRuntime', 'NotExportable', 'OnnxRuntimeModel',
    'PRECISIONS', 'RuntimeModel', 'check_input_size', 'export_onnx', 'onnxruntime_session',
    'open_runtime', 'require_exportable', 'switch_to_deploy'
]
