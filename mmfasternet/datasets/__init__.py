from .toy_coco import CLASSES as TOY_COCO_CLASSES
from .toy_coco import PALETTE as TOY_COCO_PALETTE
from .toy_coco import generate_toy_coco

__all__ = ['TOY_COCO_CLASSES', 'TOY_COCO_PALETTE', 'generate_toy_coco']
