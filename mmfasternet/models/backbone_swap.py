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

from mmfasternet.errors import MMFasterNetError
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


class UnsupportedSwap(MMFasterNetError, ValueError):
    """A config or an argument the swap cannot use: a backbone or neck the rule has no
    record for, no backbone, an unknown FasterNet variant, weights that would not fit."""


def _type_name(module: dict) -> str:
    kind = module.get('type')
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', repr(kind))
    return name.split('.')[-1]  # 'mmpretrain.ConvNeXt' -> 'ConvNeXt'


def _parse_arch(arch: Union[str, dict]) -> dict:
    """FasterNet's own reading of ``arch``, its errors as one-line :class:`UnsupportedSwap`."""
    if isinstance(arch, str) and arch.lower() not in FasterNet.arch_zoo:
        raise UnsupportedSwap(f'swap_in_fasternet: unknown FasterNet arch {arch!r}; pass one '
                              f'of {", ".join(FasterNet.arch_zoo)} or a custom arch dict')
    try:
        # FasterNet's check reads only class attributes, so it runs without an instance.
        return FasterNet._parse_arch(FasterNet, arch)
    except (TypeError, ValueError) as error:
        raise UnsupportedSwap(f'swap_in_fasternet: {error}') from None


def fasternet_widths(arch: Union[str, dict], stages: Sequence[int]) -> List[int]:
    """Output channels of FasterNet ``arch`` (a name or a custom arch dict) at ``stages``."""
    embed_dims = _parse_arch(arch)['embed_dims']
    return [embed_dims * 2**i for i in stages]


def _keys(cfg) -> str:
    keys = sorted(map(str, cfg.keys()))
    return ', '.join(keys[:12]) + (', ...' if len(keys) > 12 else '')


def _find_model(cfg: Union[Config, ConfigDict]) -> ConfigDict:
    """The model config of ``cfg`` (a full config or a model config), with a backbone."""
    fix = ('pass a full config with model.backbone or a model config with a backbone (for a '
           'tracker, its model.detector)')
    if 'model' not in cfg:
        if 'backbone' not in cfg:
            raise UnsupportedSwap(f'swap_in_fasternet: the config has no model and no backbone '
                                  f'(keys: {_keys(cfg)}); {fix}')
        model = cfg
    else:
        model = cfg['model']
    if not isinstance(model, dict) or not isinstance(model.get('backbone'), dict):
        keys = _keys(model) if isinstance(model, dict) else repr(model)
        raise UnsupportedSwap(f'swap_in_fasternet: the config\'s model has no backbone '
                              f'(model: {keys}); {fix}')
    return model


def _pretrained(init_cfg) -> Optional[str]:
    """The checkpoint of the ``Pretrained`` entry of ``init_cfg``, if it has one."""
    for entry in init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]:
        if isinstance(entry, dict) and entry.get('type') == 'Pretrained':
            return str(entry.get('checkpoint'))
    return None


def _same_arch(old: Union[str, dict], new: Union[str, dict]) -> bool:
    """Whether the config's FasterNet ``old`` and ``new`` build the same network."""
    try:
        return _parse_arch(old) == _parse_arch(new)
    except UnsupportedSwap:  # the config's own arch is not one
        return False


def _kept_fasternet_args(old: dict, model: dict, arch: Union[str, dict],
                         overrides: dict) -> dict:
    """The arguments of a FasterNet already in the config that the new one keeps: all of
    them for the same arch; for another arch, all but weights of the old arch, which stop
    the swap unless ``overrides`` sets ``init_cfg``."""
    kept = {key: value for key, value in old.items()
            if key not in ('type', 'arch', 'out_indices')}
    old_arch = old.get('arch', 't0')
    if _same_arch(old_arch, arch):
        return kept
    checkpoint = _pretrained(old.get('init_cfg')) or old.get('pretrained') or \
        model.get('pretrained')
    if checkpoint and 'init_cfg' not in overrides:
        raise UnsupportedSwap(
            f'swap_in_fasternet: the config\'s FasterNet {old_arch!r} loads the weights '
            f'{checkpoint}, which do not fit {arch!r}; pass weights of {arch!r} as '
            f'backbone_overrides=dict(init_cfg=dict(type=\'Pretrained\', checkpoint=...)), or '
            f'init_cfg=None to start from random weights')
    kept.pop('pretrained', None)
    return kept


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

    A config whose backbone is FasterNet already keeps its FasterNet arguments
    (``init_cfg``, ``drop_path_rate``, ...; ``backbone_overrides`` win); for another
    ``arch`` its ``Pretrained`` weights would not fit, and ``backbone_overrides`` must set
    ``init_cfg``.

    Args:
        cfg (Config | ConfigDict): A full config (with ``model``) or a model config.
        arch (str | dict): The FasterNet variant, or a custom arch dict.
        backbone_overrides (dict, optional): Extra FasterNet arguments, e.g. ``init_cfg``.
        scope (str, optional): The registry scope of the config's backbone, to read its
            default ``out_indices`` when the config sets none. Defaults to the config's
            ``default_scope``.

    Raises:
        UnsupportedSwap: The backbone or neck type has no record here, a backbone output
            has a stride FasterNet does not give (it gives 4, 8, 16 and 32), the config has
            no backbone, ``arch`` is not a FasterNet variant, or the config's FasterNet
            weights do not fit ``arch``. A ``ValueError``.
    """
    _parse_arch(arch)
    cfg = copy.deepcopy(cfg)
    model = _find_model(cfg)
    scope = scope or cfg.get('default_scope')
    old = model['backbone']
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

    overrides = dict(backbone_overrides or {})
    kept = {}
    if _type_name(old) == 'FasterNet':
        kept = _kept_fasternet_args(old, model, arch, overrides)
    model.backbone = ConfigDict({**kept, 'type': 'FasterNet', 'arch': arch,
                                 'out_indices': tuple(stages), **overrides})
    same_fasternet = _type_name(old) == 'FasterNet' and _same_arch(old.get('arch', 't0'), arch)
    if model.get('pretrained') is not None and not same_fasternet:
        model.pretrained = None  # mmseg's: the old backbone's weights

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
