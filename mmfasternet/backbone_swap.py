"""Put FasterNet into an existing OpenMMLab config whose backbone is a ResNet-style CNN.

The recipe: keep the base backbone's ``out_indices`` (FasterNet stage ``i`` has the same
stride, 4 * 2**i, as ResNet stage ``i``) and give the neck FasterNet's widths,
``C * 2**i`` instead of ``256 * 2**i`` (``64 * 2**i`` for ResNet-18/34).
"""
import copy
from typing import Optional, Sequence, Union

from mmengine.config import Config, ConfigDict

from mmfasternet.models.backbones.fasternet import FasterNet

RESNET_DEPTH_BASE_WIDTH = {18: 64, 34: 64, 50: 256, 101: 256, 152: 256}


def fasternet_widths(arch: str, out_indices: Sequence[int]) -> list:
    """Output channels of FasterNet ``arch`` at ``out_indices``."""
    embed_dims = FasterNet.arch_zoo[arch]['embed_dims']
    return [embed_dims * 2**(i % FasterNet.num_stages) for i in out_indices]


def swap_in_fasternet(cfg: Union[Config, ConfigDict], arch: str = 't0',
                      backbone_overrides: Optional[dict] = None) -> Union[Config, ConfigDict]:
    """Return a copy of ``cfg`` whose ResNet-style backbone is replaced by FasterNet.

    Args:
        cfg (Config | ConfigDict): A full config (with ``model``) or a model config.
        arch (str): The FasterNet variant.
        backbone_overrides (dict, optional): Extra FasterNet arguments, e.g. ``init_cfg``.
    """
    cfg = copy.deepcopy(cfg)
    model = cfg.model if 'model' in cfg else cfg
    old = model.backbone
    out_indices = tuple(old.get('out_indices', (0, 1, 2, 3)))
    base_width = RESNET_DEPTH_BASE_WIDTH.get(old.get('depth', 50), 256)
    old_widths = [base_width * 2**i for i in out_indices]
    new_widths = fasternet_widths(arch, out_indices)
    model.backbone = ConfigDict(type='FasterNet', arch=arch, out_indices=out_indices,
                                **(backbone_overrides or {}))
    neck = model.get('neck')
    for n in (neck if isinstance(neck, list) else [neck]):
        if n is None:
            continue
        in_channels = n.get('in_channels')
        if isinstance(in_channels, int):
            n.in_channels = new_widths[old_widths.index(in_channels)]
        elif in_channels is not None:
            n.in_channels = [new_widths[old_widths.index(c)] for c in in_channels]
    return cfg
