"""The official FasterNet classifier as an mmpretrain head."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer
from mmpretrain.models.heads import ClsHead

from mmfasternet.errors import ArgumentError
from mmfasternet.registry import register_model


@register_model
class FasterNetClsHead(ClsHead):
    """Global average pool -> 1x1 conv without bias -> activation -> linear.

    Parameter names follow the official release under ``head.``
    (``avgpool_pre_head.1.weight``; the official ``head.{weight,bias}`` become
    ``fc.{weight,bias}``), so official ImageNet weights give the official logits.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the last backbone stage (8C).
        feature_dim (int): Width of the pre-logits conv. Defaults to 1280.
        act_cfg (dict): Activation after the conv (GELU for T0/T1, ReLU otherwise).
        init_cfg (dict | list[dict], optional): Initialization config.
        **kwargs: Passed to :class:`mmpretrain.models.heads.ClsHead` (``loss``, ``topk``).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 feature_dim: int = 1280,
                 act_cfg: dict = dict(type='ReLU', inplace=True),
                 init_cfg: Optional[Union[dict, Sequence[dict]]] = dict(
                     type='TruncNormal', layer=['Conv2d', 'Linear'], std=.02, bias=0.),
                 **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ArgumentError(f'num_classes must be positive, got {num_classes}')
        self.num_classes = num_classes
        self.avgpool_pre_head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, feature_dim, 1, bias=False),
            build_activation_layer(act_cfg))
        self.fc = nn.Linear(feature_dim, num_classes)

    def pre_logits(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.avgpool_pre_head(feats[-1]).flatten(1)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.fc(self.pre_logits(feats))
