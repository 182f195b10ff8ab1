"""Strict loading of FasterNet weights into a backbone."""
import re

import torch
from mmengine.logging import print_log

from .layouts import backbone_state_dict, detect_layout
from .reading import CheckpointError, read_checkpoint

_OUTPUT_NORM = re.compile(r'^norm\d+\.')


def load_backbone_weights(model: torch.nn.Module, path: str, logger=None) -> str:
    """Load a FasterNet checkpoint of any supported layout into ``model``, strictly.

    Every weight of the model must come from the file with the right shape, except the
    output norms when the file is an ImageNet classifier (it has none; they keep their
    initialisation, which is logged). Output norms of stages the model does not return are
    ignored. Anything else raises :class:`CheckpointError` listing the missing, unexpected
    and mis-shaped keys; the model is left untouched then.

    Returns:
        str: The layout of the file.
    """
    checkpoint = read_checkpoint(path)
    layout = detect_layout(checkpoint)
    source = backbone_state_dict(checkpoint)
    target = model.state_dict()
    source = {k: v for k, v in source.items() if not (_OUTPUT_NORM.match(k) and k not in target)}
    missing = [k for k in target if k not in source]
    if layout in ('official', 'timm', 'mmpretrain'):
        fresh_norms = [k for k in missing if _OUTPUT_NORM.match(k)]
        missing = [k for k in missing if not _OUTPUT_NORM.match(k)]
    else:
        fresh_norms = []
    unexpected = [k for k in source if k not in target]
    mis_shaped = [f'{k}: checkpoint {tuple(source[k].shape)} vs model {tuple(target[k].shape)}'
                  for k in source if k in target and source[k].shape != target[k].shape]
    if missing or unexpected or mis_shaped:
        lines = [f'{path} ({layout} layout) does not fit this FasterNet '
                 f'(is it another variant, or another n_div / mlp_ratio?):']
        for title, keys in (('missing', missing), ('unexpected', unexpected),
                            ('mis-shaped', mis_shaped)):
            if keys:
                shown = ', '.join(keys[:10]) + (f', ... ({len(keys)} in all)'
                                                if len(keys) > 10 else '')
                lines.append(f'  {title} keys: {shown}')
        raise CheckpointError('\n'.join(lines))
    model.load_state_dict(source, strict=False)
    if fresh_norms:
        names = sorted({k.split('.')[0] for k in fresh_norms})
        print_log(f'{path} is an ImageNet classifier checkpoint without output norms; '
                  f'{", ".join(names)} keep their initialisation', logger=logger or 'current')
    return layout
