"""Toy data generators shared by the demos and the tests: small, deterministic sets of
procedural scenes in COCO and ADE20K formats. They are files on disk, not dataset classes:
the toy configs read them with mmdet's ``CocoDataset`` and mmseg's ``BaseSegDataset``."""
from .toy_ade import CLASSES as TOY_ADE_CLASSES
from .toy_ade import PALETTE as TOY_ADE_PALETTE
from .toy_ade import generate_toy_ade, toy_ade_exists
from .toy_coco import generate_toy_coco, toy_coco_exists
from .toy_scenes import CLASSES as TOY_CLASSES
from .toy_scenes import PALETTE as TOY_PALETTE

__all__ = [
    'TOY_ADE_CLASSES', 'TOY_ADE_PALETTE', 'TOY_CLASSES', 'TOY_PALETTE', 'generate_toy_ade',
    'generate_toy_coco', 'toy_ade_exists', 'toy_coco_exists'
]
