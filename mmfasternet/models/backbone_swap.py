"""Put FasterNet into an existing OpenMMLab config (mmdet, mmseg, mmpose), by stride.

The rule: each output of the config's backbone is matched with the FasterNet stage of the
same stride (stage ``i`` has stride ``4 * 2**i``), and whatever reads the backbone's outputs
is given FasterNet's widths (``C * 2**i``) in the order it reads them:

- The backbone's output strides come from :data:`OUTPUT_STRIDES`, a record per backbone
  family of the stride of its output ``out_indices[k]``: a ResNet counts its four stages from
  0 (stride 4), CSPDarknet and CSPNeXt count their stride-2 stem as output 0 (their
  ``(2, 3, 4)`` are strides 8, 16, 32), Darknet its stride-1 first conv. Strides are those of
  the stages as designed: a dilated ResNet (mmseg's ``-d8``) maps stage by stage and runs at
  output stride 32 with FasterNet.
- The reader is the first neck, with its order in :data:`NECK_ORDERS` (FPN and its kin read
  the outputs from the finest, YOLOv3's neck from the coarsest, single-level necks the last
  one), or, without a neck (or after one that keeps the channels, such as mmpose's
  ``GlobalAveragePooling``), the heads: their ``in_index`` when they have one (mmseg's decode
  heads), all outputs for a list and the last one for an int (mmpose's heads), and the first
  output for ``c1_in_channels`` (DeepLabV3+).

A config outside these records stops with one line naming its backbone and neck types.
"""
import copy
import inspect
from typing import Callable, Dict, List, Optional, Sequence, Union

from mmengine.config import Config, ConfigDict
from mmengine.registry import MODELS

from mmfasternet.models.backbones.fasternet import FasterNet


def _stage_strides(index: int) -> int:
    return 4 * 2**index  # four stages from stride 4, as FasterNet's own


def _stem_then_stages(index: int) -> int:
    return 2**(index + 1)  # output 0 is a stride-2 stem


def _darknet(index: int) -> int:
    return 2**index  # output 0 is a stride-1 conv


#: The stride of a backbone family's output at each index of ``out_indices``.
OUTPUT_STRIDES: Dict[str, Callable[[int], int]] = {
    **dict.fromkeys(
        ('ResNet', 'ResNetV1c', 'ResNetV1d', 'ResNeXt', 'Res2Net', 'ResNeSt', 'SEResNet',
         'SEResNeXt', 'DetectoRS_ResNet', 'DetectoRS_ResNeXt', 'RegNet', 'ConvNeXt',
         'SwinTransformer', 'PyramidVisionTransformer', 'PyramidVisionTransformerV2',
         'FasterNet'), _stage_strides),
    'CSPDarknet': _stem_then_stages,
    'CSPNeXt': _stem_then_stages,
    'Darknet': _darknet,
}

IN_ORDER, COARSEST_FIRST, LAST = 'in order', 'coarsest first', 'last'
#: How each neck type reads the backbone's outputs into its ``in_channels``.
NECK_ORDERS: Dict[str, str] = {
    **dict.fromkeys(
        ('FPN', 'PAFPN', 'NASFPN', 'NASFCOS_FPN', 'FPN_CARAFE', 'FPN_DropBlock', 'RFP', 'FPG',
         'HRFPN', 'ChannelMapper', 'SSH', 'YOLOXPAFPN', 'CSPNeXtPAFPN', 'MultiLevelNeck'),
        IN_ORDER),
    'YOLOV3Neck': COARSEST_FIRST,
    **dict.fromkeys(('DilatedEncoder', 'CTResNetNeck'), LAST),
}
#: Necks that pass the backbone's channels on: the heads after them read FasterNet's widths.
CHANNEL_KEEPING_NECKS = ('GlobalAveragePooling', )
HEAD_KEYS = ('decode_head', 'auxiliary_head', 'head', 'panoptic_head')


class UnsupportedSwap(ValueError):
    """A config whose backbone or neck the swap rule has no record for."""


def _type_name(module: dict) -> str:
    kind = module.get('type')
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', repr(kind))
    return name.split('.')[-1]  # 'mmpretrain.ConvNeXt' -> 'ConvNeXt'


def fasternet_widths(arch: Union[str, dict], stages: Sequence[int]) -> List[int]:
    """Output channels of FasterNet ``arch`` (a name or a custom arch dict) at ``stages``."""
    embed_dims = (arch if isinstance(arch, dict) else FasterNet.arch_zoo[arch.lower()])[
        'embed_dims']
    return [embed_dims * 2**i for i in stages]


def _default_out_indices(backbone: dict, scope: Optional[str]) -> Sequence[int]:
    """The ``out_indices`` the backbone class defaults to (mmdet's ResNet returns all four
    stages, mmpose's the last)."""
    kind = backbone['type']
    if isinstance(kind, str) and scope and '.' not in kind:
        kind = f'{scope}.{kind}'
    cls = MODELS.get(kind) if isinstance(kind, str) else kind
    default = inspect.signature(cls).parameters['out_indices'].default if cls else None
    if default is None or default is inspect.Parameter.empty:
        raise UnsupportedSwap(f'swap_in_fasternet: the backbone {_type_name(backbone)} sets no '
                              f'out_indices and {kind} has no default to read; set them')
    return (default, ) if isinstance(default, int) else default


def _widths_for(reader: dict, widths: List[int], order: str, where: str) -> None:
    """Set ``reader['in_channels']`` to ``widths`` as ``order`` reads them."""
    value = reader.get('in_channels')
    if order == LAST:
        reader['in_channels'] = widths[-1]
        return
    count = len(value) if isinstance(value, (list, tuple)) else 1
    if count != len(widths):
        raise UnsupportedSwap(f'{where} reads {count} inputs but the backbone gives '
                              f'{len(widths)}; set the neck\'s in_channels by hand')
    reader['in_channels'] = list(widths if order == IN_ORDER else reversed(widths))


def _head_widths(head: dict, widths: List[int]) -> None:
    """Set a head's input widths: by its ``in_index``, else all outputs for a list of
    ``in_channels`` and the last one for an int."""
    if 'in_channels' in head:
        value, index = head['in_channels'], head.get('in_index')
        if isinstance(value, (list, tuple)):
            indices = index if isinstance(index, (list, tuple)) else range(len(widths))
            head['in_channels'] = [widths[i] for i in indices]
        else:
            head['in_channels'] = widths[index if isinstance(index, int) else -1]
    if 'c1_in_channels' in head:  # DeepLabV3+ reads the first output for its low level
        head['c1_in_channels'] = widths[0]


def swap_in_fasternet(cfg: Union[Config, ConfigDict], arch: Union[str, dict] = 't0',
                      backbone_overrides: Optional[dict] = None,
                      scope: Optional[str] = None) -> Union[Config, ConfigDict]:
    """Return a copy of ``cfg`` whose backbone is FasterNet ``arch``, outputs matched by
    stride and the neck's (or heads') input widths set (see the module's rule).

    Args:
        cfg (Config | ConfigDict): A full config (with ``model``) or a model config.
        arch (str | dict): The FasterNet variant, or a custom arch dict.
        backbone_overrides (dict, optional): Extra FasterNet arguments, e.g. ``init_cfg``.
        scope (str, optional): The registry scope of the config's backbone, to read its
            default ``out_indices`` when the config sets none. Defaults to the config's
            ``default_scope``.

    Raises:
        UnsupportedSwap: The backbone or neck type has no record here, or a backbone
            output has a stride FasterNet does not give (it gives 4, 8, 16 and 32).
    """
    cfg = copy.deepcopy(cfg)
    model = cfg.model if 'model' in cfg else cfg
    scope = scope or cfg.get('default_scope')
    old = model.backbone
    necks = model.get('neck')
    neck = (necks[0] if isinstance(necks, (list, tuple)) else necks) or None
    neck_type = _type_name(neck) if neck else 'none'
    where = f'swap_in_fasternet: backbone {_type_name(old)}, neck {neck_type}'
    stride_of = OUTPUT_STRIDES.get(_type_name(old))
    if stride_of is None:
        raise UnsupportedSwap(f'{where}: no stride record for this backbone (known: '
                              f'{", ".join(sorted(OUTPUT_STRIDES))}); set FasterNet\'s '
                              f'out_indices and the neck\'s in_channels by hand')
    out_indices = old.get('out_indices')
    if out_indices is None:
        out_indices = _default_out_indices(old, scope)
    out_indices = [out_indices] if isinstance(out_indices, int) else list(out_indices)
    stages = []
    for stride in sorted(stride_of(i) for i in out_indices):
        stage = stride.bit_length() - 3  # 4 -> 0, ..., 32 -> 3
        if stride & (stride - 1) or not 0 <= stage < FasterNet.num_stages:
            raise UnsupportedSwap(f'{where}: an output of stride {stride}; FasterNet\'s '
                                  f'stages have strides 4, 8, 16 and 32')
        stages.append(stage)
    widths = fasternet_widths(arch, stages)

    model.backbone = ConfigDict(type='FasterNet', arch=arch, out_indices=tuple(stages),
                                **(backbone_overrides or {}))
    if model.get('pretrained') is not None:  # mmseg's: the old backbone's weights
        model.pretrained = None

    if neck and neck_type not in CHANNEL_KEEPING_NECKS:
        order = NECK_ORDERS.get(neck_type)
        if order is None:
            raise UnsupportedSwap(f'{where}: no record of how this neck reads the backbone '
                                  f'(known: {", ".join(sorted(NECK_ORDERS))}); set its '
                                  f'in_channels to FasterNet\'s widths {widths} by hand')
        _widths_for(neck, widths, order, where)
        return cfg
    for key in HEAD_KEYS:
        heads = model.get(key)
        for head in (heads if isinstance(heads, (list, tuple)) else [heads]):
            if head:
                _head_widths(head, widths)
    return cfg
