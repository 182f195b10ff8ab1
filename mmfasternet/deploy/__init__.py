"""Deployment: BN folding and ONNX export of backbones and classifiers (:mod:`.export`);
whole Mask R-CNN detectors with their post-processing (:mod:`.detector`) and mmseg
segmentors (:mod:`.segmentor`), with the ONNX Runtime models that ``tools/test.py``
evaluates them with (:mod:`.evaluation`). The last three need mmdet or mmseg and are
imported on use."""
from .export import (NotExportable, export_onnx, fuse_conv_bn, require_exportable,
                     switch_to_deploy)

__all__ = [
    'NotExportable', 'export_onnx', 'fuse_conv_bn', 'require_exportable', 'switch_to_deploy'
]
