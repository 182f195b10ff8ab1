"""The operators of the paper's Tab. 1, as stacks to time and count."""
import torch.nn as nn

from mmfasternet.models.backbones.fasternet import PartialConv

OPERATOR_KINDS = ('conv', 'gconv', 'dwconv', 'pconv')


def operator_stack(kind: str, channels: int, layers: int = 10) -> nn.Module:
    """Ten stacked 3x3 layers of one operator kind, as in the paper's Tab. 1:
    ``conv``, ``gconv`` (16 groups), ``dwconv`` or ``pconv`` (r = 1/4).

    Args:
        kind (str): One of :data:`OPERATOR_KINDS`.
        channels (int): Input and output channels of every layer.
        layers (int): How many layers to stack. Defaults to 10.
    """
    if kind not in OPERATOR_KINDS:
        raise ValueError(f'kind must be one of {OPERATOR_KINDS}, got {kind!r}')

    def layer():
        if kind == 'pconv':
            return PartialConv(channels, 4)
        groups = dict(conv=1, gconv=16, dwconv=channels)[kind]
        return nn.Conv2d(channels, channels, 3, padding=1, groups=groups, bias=False)

    return nn.Sequential(*[layer() for _ in range(layers)]).eval()
