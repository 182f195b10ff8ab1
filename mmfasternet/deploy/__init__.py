"""Deployment: BN folding for every model (:mod:`.folding`); ONNX export of backbones and
classifiers (:mod:`.export`), of whole Mask R-CNN detectors with their post-processing
(:mod:`.mask_rcnn_graph`) and of mmseg segmentors (:mod:`.segmentor_graph`); the runtimes
that run the files, one module each (:mod:`.runtimes`); the runtime models that
``tools/test.py`` evaluates files with (:mod:`.runtime_models`); parity checks against
PyTorch and between files (:mod:`.parity`); int8 quantisation calibrated on a config's data
(:mod:`.quantization`). Which of these a model takes is decided in one place,
:mod:`.tasks`. What needs mmdet, mmseg, mmpretrain, NNCF or OpenVINO is imported on use."""
from .errors import CalibrationError, DeployError, MissingRuntime, NotExportable
from .export import check_input_size, export_onnx
from .folding import switch_to_deploy
from .runtimes import RUNTIMES, Runtime, cpu_name_and_flags, isa_flags, open_runtime

__all__ = [
    'CalibrationError', 'DeployError', 'MissingRuntime', 'NotExportable', 'RUNTIMES', 'Runtime',
    'check_input_size', 'cpu_name_and_flags', 'export_onnx', 'isa_flags', 'open_runtime',
    'switch_to_deploy'
]
