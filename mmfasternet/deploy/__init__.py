"""Deployment: BN folding and ONNX export of backbones and classifiers
(:mod:`.export`), and of whole Mask R-CNN detectors with their post-processing
(:mod:`.detector`, imported on use since it needs mmdet)."""
from .export import export_onnx, fuse_conv_bn, switch_to_deploy

__all__ = ['export_onnx', 'fuse_conv_bn', 'switch_to_deploy']
