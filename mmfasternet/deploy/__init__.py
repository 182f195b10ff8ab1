"""Deployment: BN folding for every model (:mod:`.folding`), ONNX export of backbones and
classifiers (:mod:`.export`) and running the files in ONNX Runtime (:mod:`.onnxruntime`);
whole Mask R-CNN detectors with their post-processing (:mod:`.detector`) and mmseg
segmentors (:mod:`.segmentor`), with the ONNX Runtime models that ``tools/test.py``
evaluates them with (:mod:`.evaluation`). The last three need mmdet or mmseg and are
imported on use."""
from .export import NotExportable, export_onnx, require_exportable
from .folding import switch_to_deploy
from .onnxruntime import OnnxRuntimeModel, onnxruntime_session, open_onnx_file

__all__ = [
    'NotExportable', 'OnnxRuntimeModel', 'export_onnx', 'onnxruntime_session',
    'open_onnx_file', 'require_exportable', 'switch_to_deploy'
]
