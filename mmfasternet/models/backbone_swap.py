"""Put FasterNet into an existing OpenMMLab config whose backbone is a ResNet-style CNN.

The recipe: keep the base backbone's ``out_indices`` (FasterNet stage ``i`` has the same
stride, 4 * 2**i, as ResNet stage ``i``) and give whatever reads the backbone features FasterNet's
widths, ``C * 2**i`` instead of ResNet's ``256 * 2**i`` (``64 * 2**i`` for ResNet-18/34).
What reads them is the neck when there is one, otherwise the decode and auxiliary heads
(``in_channels``, and ``c1_in_channels`` for DeepLabV3+).
"""
import copy
from typing import Optional, Sequence, Union

from mmengine.config import Config, ConfigDict

from mmfasternet.models.backbones.fasternet import FasterNet

RESNET_BASE_WIDTH = {18: 64, 34: 64, 50: 256, 101: 256, 152: 256}
CHANNEL_KEYS = ('in_channels', 'c1_in_channels')


def fasternet_widths(arch: str, stages: Sequence[int]) -> list:
    """Output channels of FasterNet ``arch`` at the given stages."""
    embed_dims = FasterNet.arch_zoo[arch]['embed_dims']
    return [embed_dims * 2**(i % FasterNet.num_stages) for i in stages]


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
    base_width = RESNET_BASE_WIDTH[old.get('depth', 50)]
    stages = range(FasterNet.num_stages)
    width_map = dict(zip([base_width * 2**i for i in stages], fasternet_widths(arch, stages)))
    model.backbone = ConfigDict(type='FasterNet', arch=arch,
                                out_indices=tuple(old.get('out_indices', (0, 1, 2, 3))),
                                **(backbone_overrides or {}))
    if model.get('pretrained') is not None:  # mmseg passes it on to the backbone
        model.pretrained = None

    readers = ['neck'] if model.get('neck') else ['decode_head', 'auxiliary_head']
    for key in readers:
        modules = model.get(key)
        for module in (modules if isinstance(modules, list) else [modules]):
            for channel_key in CHANNEL_KEYS:
                if module is None or channel_key not in module:
                    continue
                value = module[channel_key]
                module[channel_key] = (width_map[value] if isinstance(value, int) else
                                       [width_map[v] for v in value])
    return cfg
