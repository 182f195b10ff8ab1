"""FasterNet checkpoints: their layouts, reading them safely and loading them strictly."""
from .input_channels import adapt_input_channels
from .layouts import LAYOUTS, detect_layout, official_to_timm, timm_to_official, to_mm_state_dict
from .loading import load_backbone_weights, load_model_weights
from .reading import (CheckpointError, CheckpointNotFound, read_checkpoint,
                      read_checkpoints_in_mmengine)
from .weights_only import load_weights_only

__all__ = [
    'LAYOUTS', 'CheckpointError', 'CheckpointNotFound', 'adapt_input_channels', 'detect_layout',
    'load_backbone_weights', 'load_model_weights', 'load_weights_only', 'official_to_timm',
    'read_checkpoint', 'read_checkpoints_in_mmengine', 'timm_to_official', 'to_mm_state_dict'
]
