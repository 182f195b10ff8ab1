"""Strict loading of FasterNet weights into a backbone."""
import re
from typing import Optional

import torch
from mmengine.logging import print_log

from .layouts import backbone_state_dict, detect_layout
from .reading import CheckpointError, read_checkpoint

_OUTPUT_NORM = re.compile(r'^norm\d+\.')
_LAYER = re.compile(r'^stages\.(\d+)\.')


def _unbuilt_layer_keys(source: dict, model: torch.nn.Module) -> list:
    """Keys of ``source`` in the layers after the model's last output stage, which a
    FasterNet with early ``out_indices`` does not build."""
    layers = (_LAYER.match(k) for k in source)
    return [m.string for m in layers if m and int(m.group(1)) >= len(model.stages)]


def _under_prefix(checkpoint: dict, prefix: str, path: str) -> dict:
    """The weights under ``prefix`` (e.g. ``'backbone.'``), with the prefix removed."""
    prefix = prefix if prefix.endswith('.') else prefix + '.'
    state = checkpoint.get('state_dict', checkpoint)
    selected = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not selected:
        raise CheckpointError(f'{path} has no weights under the prefix {prefix!r} given in '
                              f'init_cfg; its keys start with '
                              f'{sorted({k.split(".")[0] for k in state})[:10]}')
    return selected


def load_backbone_weights(model: torch.nn.Module, path: str, prefix: Optional[str] = None,
                          logger=None) -> str:
    """Load a FasterNet checkpoint of any supported layout into ``model``, strictly.

    Every weight of the model must come from the file with the right shape, except the
    output norms when the file is an ImageNet classifier (it has none; they keep their
    initialisation, which is logged). Output norms of stages the model does not return, and
    the stages after its last output (not built), are ignored; the latter is logged.
    Anything else raises :class:`CheckpointError` listing the missing, unexpected and
    mis-shaped keys; the model is left untouched then.

    Args:
        model (nn.Module): A FasterNet backbone.
        path (str): The checkpoint file.
        prefix (str, optional): Load only the weights under this prefix, as mmengine's
            ``Pretrained`` init does. Defaults to None (the layout decides).
        logger: Where to log; defaults to the current logger.

    Returns:
        str: The layout of the file.
    """
    checkpoint = read_checkpoint(path)
    if prefix:
        checkpoint = _under_prefix(checkpoint, prefix, path)
    layout = detect_layout(checkpoint)
    source = backbone_state_dict(checkpoint)
    target = model.state_dict()
    source = {k: v for k, v in source.items() if not (_OUTPUT_NORM.match(k) and k not in target)}
    unbuilt = _unbuilt_layer_keys(source, model)
    for key in unbuilt:
        del source[key]
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
    if unbuilt:
        print_log(f'{path}: {len(unbuilt)} weights of the stages after out_indices='
                  f'{tuple(model.out_indices)} are ignored; this backbone does not build '
                  f'those stages', logger=logger or 'current')
    if fresh_norms:
        names = sorted({k.split('.')[0] for k in fresh_norms})
        print_log(f'{path} is an ImageNet classifier checkpoint without output norms; '
                  f'{", ".join(names)} keep their initialisation', logger=logger or 'current')
    return layout
