"""Starting a backbone for other inputs than RGB (grey, RGB-D, multispectral) from RGB weights.

Only the embedding conv (``patch_embed.proj.weight``, shape ``(C, 3, k, k)``) depends on the
number of input channels. Its RGB filters become filters for ``n`` channels by one rule:

- ``n < 3``: each channel gets the sum of the three RGB filters divided by ``n``, so ``n``
  copies of a grey image give the response the RGB model gives to that grey image.
- ``n > 3``: channels 0-2 keep the RGB filters and the others start at zero, so the model
  starts as the RGB model on its first three channels (put RGB first) and learns the others.
"""
from typing import Dict, Optional

import torch

from .reading import CheckpointError

EMBEDDING = 'patch_embed.proj.weight'


def adapt_embedding(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """The RGB embedding filters ``weight`` ``(C, 3, k, k)`` for ``in_channels`` inputs,
    by the module's rule."""
    if weight.shape[1] != 3:
        raise CheckpointError(f'adapting the embedding conv needs RGB filters (C, 3, k, k), got '
                              f'{tuple(weight.shape)}')
    if in_channels < 3:
        return (weight.sum(1, keepdim=True) / in_channels).repeat(1, in_channels, 1, 1)
    extra = weight.new_zeros(weight.shape[0], in_channels - 3, *weight.shape[2:])
    return torch.cat([weight, extra], dim=1)


def _rule_for(in_channels: int) -> str:
    """The adaptation rule for ``in_channels`` inputs, in words, for the log."""
    if in_channels < 3:
        return (f'each of its {in_channels} input channels takes the sum of the RGB filters '
                f'/ {in_channels}')
    return f'channels 0-2 keep the RGB filters, channels 3-{in_channels - 1} start at zero'


def adapt_input_channels(source: Dict[str, torch.Tensor], target: Dict[str, torch.Tensor],
                         prefix: str = '') -> Optional[str]:
    """Adapt, in place, the RGB embedding filters in ``source`` to the input channels of
    ``target`` (both state dicts, the backbone's keys under ``prefix``). Returns the rule
    applied, in words, or None when there was nothing to adapt."""
    key = prefix + EMBEDDING
    if key not in source or key not in target:
        return None
    theirs, ours = source[key], target[key]
    if theirs.shape[1] != 3 or ours.shape[1] == 3 or theirs.shape[0] != ours.shape[0] \
            or theirs.shape[2:] != ours.shape[2:]:
        return None
    source[key] = adapt_embedding(theirs, ours.shape[1])
    return f'the embedding conv takes {ours.shape[1]} input channels, the weights 3: ' \
           f'{_rule_for(ours.shape[1])}'
