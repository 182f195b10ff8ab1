"""FasterNet checkpoints: their layouts, reading them safely and loading them strictly."""
from .input_channels import adapt_embedding, adapt_input_channels
from .layouts import (CLASSIFIER_PREFIXES, LAYOUTS, Layout, backbone_state_dict, detect_layout,
                      official_to_mmpretrain, official_to_timm, timm_to_official, to_mm_state_dict)
from .loading import (backbone_difference, check_model_checkpoint, describe_backbone,
                      load_backbone_weights, load_model_weights, read_model_state)
from .reading import (CheckpointError, CheckpointNotFound, checkpoint_format, read_checkpoint,
                      read_checkpoints_in_mmengine)
from .weights_only import (UnsafeGlobals, allow_mmengine_checkpoints, load_weights_only,
                           mmengine_checkpoint_globals)

__all__ = [
    'CLASSIFIER_PREFIXES', 'LAYOUTS', 'CheckpointError', 'CheckpointNotFound', 'Layout',
    'UnsafeGlobals', 'adapt_embedding', 'adapt_input_channels', 'allow_mmengine_checkpoints',
    'backbone_difference', 'backbone_state_dict', 'check_model_checkpoint',
    'checkpoint_format', 'describe_backbone', 'detect_layout', 'load_backbone_weights',
    'load_model_weights', 'load_weights_only', 'mmengine_checkpoint_globals',
    'official_to_mmpretrain', 'official_to_timm', 'read_checkpoint',
    'read_checkpoints_in_mmengine', 'read_model_state', 'timm_to_official', 'to_mm_state_dict'
]
