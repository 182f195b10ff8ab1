"""Put FasterNet into an existing OpenMMLab config (mmdet, mmseg, mmpose, mmyolo), by stride.

The rule: each output of the config's backbone is matched with the FasterNet stage of the
same stride (stage ``i`` has stride ``4 * 2**i``), and whatever reads the backbone's outputs
is given FasterNet's widths (``C * 2**i``) in the order it reads them. Each fact is a row of
a table, so a new family is a row:

- The backbone's outputs: :data:`OUTPUT_STRIDES` gives each family's strides from its config
  and its class's defaults (:class:`BackboneArgs`): the layers ``out_indices`` names (a
  ResNet counts its stages from stride 4, CSPDarknet, CSPNeXt and mmyolo's backbones their
  stride-2 stem as output 0, Darknet its stride-1 first conv, PoolFormer its downsampling
  layers), HRNet's branches, a plain ViT's patch stride. Strides are the ones the config
  runs (a ``strides`` argument: DC5's last stage is at 16); a dilated backbone whose outputs
  share a stride (mmseg's ``-d8``) maps stage by stage, as designed, and runs at output
  stride 32. A resampling neck (:data:`RESAMPLING_NECKS`) is matched after its scales.
- The readers: the first neck, with its order in :data:`NECK_ORDERS` (FPN and its kin read
  the outputs from the finest, YOLOv3's neck from the coarsest, single-level necks the last
  one); or, without a neck, or after one that passes the widths on
  (:data:`WIDTH_PASSING_NECKS`), the heads (:data:`HEAD_KEYS`, and heads inside them,
  :data:`NESTED_HEAD_KEYS`): their ``in_index`` when they have one (mmseg's decode heads),
  all outputs for a list and the last one for an int, the first output for
  ``c1_in_channels`` (DeepLabV3+); a neckless RoI head's extractors and box heads the last
  output; a C4 RoI head's ResNet stage through a 1x1 ``ChannelMapper``.
- mmyolo's necks and head modules multiply the widths of their config by a
  ``widen_factor``: the swap folds the factor into those widths first
  (:data:`WIDENED_WIDTHS`: the widths they build stay, and the factor becomes 1), so that
  the widths it then sets are FasterNet's own. YOLOv5's and YOLOv8's PAFPN give their
  outputs their inputs' widths: they pass FasterNet's on to the head module.

What cannot swap stops in one line naming the backbone and neck types and why, before
anything is built: no image pyramid (:data:`NOT_PYRAMIDS`), no record, a neck that cannot
read FasterNet (:data:`UNREADABLE_NECKS`), a stride FasterNet lacks, a GroupNorm that
cannot divide FasterNet's widths.
"""
import copy
import inspect
import math
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

from mmengine.config import Config, ConfigDict
from mmengine.registry import MODELS

from mmfasternet.errors import MMFasterNetError
from mmfasternet.models.backbones.fasternet import FasterNet


class UnsupportedSwap(MMFasterNetError, ValueError):
    """A config or an argument the swap cannot use: a backbone or neck the rule has no
    record for, no backbone, an unknown FasterNet variant, weights that would not fit."""


def _type_name(module: dict) -> str:
    kind = module.get('type')
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', repr(kind))
    return name.split('.')[-1]  # 'mmpretrain.ConvNeXt' -> 'ConvNeXt'


class Outputs(NamedTuple):
    """The strides of a backbone's outputs, in order: as its stages are designed, and as
    the config runs them (they differ where a stage is dilated instead of strided)."""
    designed: List[int]
    actual: List[int]


class BackboneArgs:
    """A backbone config's arguments, with its class's defaults for those it leaves out
    (read from the signatures along the class's bases, so a subclass that takes
    ``**kwargs`` has its parent's defaults)."""

    def __init__(self, config: dict, scope: Optional[str]):
        self.config = config
        kind = config['type']
        if isinstance(kind, str) and scope and '.' not in kind:
            kind = f'{scope}.{kind}'
        self.cls = MODELS.get(kind) if isinstance(kind, str) else kind

    def get(self, name: str, default=None):
        if name in self.config:
            return self.config[name]
        for cls in getattr(self.cls, '__mro__', ()):
            if '__init__' not in vars(cls):
                continue
            parameter = inspect.signature(cls.__init__).parameters.get(name)
            if parameter is not None and parameter.default is not inspect.Parameter.empty:
                return parameter.default
        return default


def _layers(designed: Sequence[int], stem: int = 4,
            returns: Optional[Sequence[int]] = None) -> Callable[[BackboneArgs], Outputs]:
    """The outputs of a backbone that returns its layers ``out_indices`` (negative ones
    counted from the end; ``returns`` for one that has no such argument), layer ``i`` of
    stride ``designed[i]``; where the config gives each layer's ``strides``, the actual
    stride of layer ``i`` is ``stem`` times their product up to ``i`` (a dilated layer
    keeps its input's stride)."""

    def outputs(args: BackboneArgs) -> Outputs:
        indices = args.get('out_indices', returns)
        if indices is None:
            raise UnsupportedSwap(f'the backbone {_type_name(args.config)} sets no '
                                  f'out_indices and its class has no default to read; set them')
        indices = [indices] if isinstance(indices, int) else list(indices)
        if not all(-len(designed) <= i < len(designed) for i in indices):
            raise UnsupportedSwap(f'the backbone\'s out_indices {tuple(indices)} name layers '
                                  f'it does not have')
        indices = [i % len(designed) for i in indices]
        layer_strides = args.get('strides')
        actual = [designed[i] for i in indices]
        if isinstance(layer_strides, (list, tuple)) and max(indices) < len(layer_strides):
            actual = [stem * math.prod(layer_strides[:i + 1]) for i in indices]
        return Outputs([designed[i] for i in indices], actual)

    return outputs


def _hrnet(args: BackboneArgs) -> Outputs:
    """HRNet returns its last stage's branches, strides 4, 8, 16, 32, or only the first
    without ``multiscale_output`` (mmpose's default)."""
    stage4 = (args.get('extra') or {}).get('stage4', {})
    multiscale = stage4.get('multiscale_output', args.get('multiscale_output', False))
    strides = [4, 8, 16, 32][:stage4.get('num_branches', 4)] if multiscale else [4]
    return Outputs(strides, strides)


def _lite_hrnet(args: BackboneArgs) -> Outputs:
    """LiteHRNet with its head returns its stride-4 branch; without, all branches."""
    extra = args.get('extra') or {}
    branches = (extra.get('stages_spec') or {}).get('num_branches', (2, 3, 4))
    strides = [4] if extra.get('with_head', True) else [4, 8, 16, 32][:max(branches)]
    return Outputs(strides, strides)


def _plain_vit(args: BackboneArgs) -> Outputs:
    """A plain vision transformer gives every output at the stride of its patches."""
    indices = args.get('out_indices', -1)
    count = 1 if isinstance(indices, int) else len(indices)
    strides = [args.get('patch_size', 16)] * count
    return Outputs(strides, strides)


def _yolov7(args: BackboneArgs) -> Outputs:
    """mmyolo's YOLOv7 backbone: its stem is at stride 2 (a stride-64 fifth stage for the P6
    archs W, E, D, E2E), but for Tiny, whose stem is at stride 4 and whose first stage keeps
    it."""
    designed = (4, 4, 8, 16, 32) if args.get('arch', 'L') == 'Tiny' else (2, 4, 8, 16, 32, 64)
    return _layers(designed)(args)


STAGES = (4, 8, 16, 32, 64)  # four stages from stride 4, and a P6 stage where there is one
#: The outputs of each backbone family, from its config (:class:`BackboneArgs`). The
#: ``stem`` is the stride before the stages that a ``strides`` argument counts.
OUTPUT_STRIDES: Dict[str, Callable[[BackboneArgs], Outputs]] = {
    **dict.fromkeys(
        ('ResNet', 'ResNetV1c', 'ResNetV1d', 'ResNeXt', 'Res2Net', 'ResNeSt', 'SEResNet',
         'SEResNeXt', 'DetectoRS_ResNet', 'DetectoRS_ResNeXt', 'SCNet', 'ViPNAS_ResNet'),
        _layers(STAGES, stem=4)),
    'RegNet': _layers(STAGES, stem=2),
    **dict.fromkeys(
        ('SwinTransformer', 'PyramidVisionTransformer', 'PyramidVisionTransformerV2',
         'MixVisionTransformer', 'PCPVT', 'SVT'), _layers(STAGES, stem=1)),
    **dict.fromkeys(('ConvNeXt', 'FasterNet'), _layers(STAGES)),
    'MSCAN': _layers(STAGES, returns=(0, 1, 2, 3)),
    # CSPDarknet and CSPNeXt count their stride-2 stem as output 0, and so do mmyolo's
    # backbones (a P6 arch adds a stride-64 stage); Darknet its stride-1 first conv;
    # MobileNetV2 its stride-2 stem's layer 0 and its last conv as layer 7.
    **dict.fromkeys(('CSPDarknet', 'CSPNeXt', 'YOLOv5CSPDarknet', 'YOLOv8CSPDarknet',
                     'YOLOXCSPDarknet', 'YOLOv6EfficientRep', 'YOLOv6CSPBep',
                     'PPYOLOECSPResNet'), _layers((2, 4, 8, 16, 32, 64))),
    'YOLOv7Backbone': _yolov7,
    'Darknet': _layers((1, 2, 4, 8, 16, 32)),
    'MobileNetV2': _layers((2, 4, 8, 16, 16, 32, 32, 32), stem=2),
    'ShuffleNetV1': _layers((8, 16, 32)),
    'ShuffleNetV2': _layers((8, 16, 32, 32)),
    # mmpretrain's PoolFormer counts its downsampling layers between the stages.
    'PoolFormer': _layers((4, 8, 8, 16, 16, 32, 32)),
    **dict.fromkeys(('HRNet', 'HRFormer'), _hrnet),
    'LiteHRNet': _lite_hrnet,
    **dict.fromkeys(('VisionTransformer', 'BEiT', 'MAE'), _plain_vit),
}

REAL_TIME_SEGMENTATION = ('it is a real-time segmentation network whose heads read its own '
                          'branches (context, spatial or detail paths), not one pyramid')
#: Backbones that give no image pyramid to match by stride, and why.
NOT_PYRAMIDS: Dict[str, str] = {
    'TCN': 'it reads keypoint sequences, not images',
    'DSTFormer': 'it reads keypoint sequences, not images',
    'HourglassNet': 'its stacked hourglasses return to the stride they start at, so its '
                    'outputs are no pyramid',
    'UNet': 'it is an encoder-decoder whose output has the size of its input',
    **dict.fromkeys(('CPM', 'MSPN', 'RSN'), 'it is a multi-stage network whose stages '
                                            'each end at one stride, read stage by stage'),
    **dict.fromkeys(('BiSeNetV1', 'BiSeNetV2', 'ICNet', 'STDCContextPathNet', 'PIDNet',
                     'DDRNet', 'CGNet', 'ERFNet', 'FastSCNN'), REAL_TIME_SEGMENTATION),
}

IN_ORDER, COARSEST_FIRST, LAST = 'in order', 'coarsest first', 'last'
#: How each neck type reads the backbone's outputs into its ``in_channels``.
NECK_ORDERS: Dict[str, str] = {
    **dict.fromkeys(
        ('FPN', 'PAFPN', 'NASFPN', 'NASFCOS_FPN', 'FPN_CARAFE', 'FPN_DropBlock', 'FPG',
         'HRFPN', 'ChannelMapper', 'SSH', 'YOLOXPAFPN', 'CSPNeXtPAFPN', 'MultiLevelNeck',
         'HybridEncoder', 'JPU', 'SSDNeck', 'YOLOv5PAFPN', 'YOLOv8PAFPN', 'YOLOv6RepPAFPN',
         'YOLOv6CSPRepPAFPN', 'YOLOv6RepBiPAFPN', 'YOLOv6CSPRepBiPAFPN', 'YOLOv7PAFPN',
         'PPYOLOECSPPAFPN'), IN_ORDER),
    'YOLOV3Neck': COARSEST_FIRST,
    **dict.fromkeys(('DilatedEncoder', 'CTResNetNeck'), LAST),
}
#: Necks that resample the backbone's outputs by their ``scales``: the strides after them
#: are matched, and with FasterNet they keep each output's size.
RESAMPLING_NECKS = ('MultiLevelNeck', )
#: Necks that cannot read FasterNet, and why.
UNREADABLE_NECKS: Dict[str, str] = {
    'RFP': 'its recursive feature pyramid runs a ResNet of its own on the image',
    'Feature2Pyramid': 'it resamples one width (embed_dim) to every level, where '
                       'FasterNet\'s outputs have a width each',
}
#: Necks that run GroupNorm on the widths they read, which FasterNet's must divide.
GROUP_NORMED_INPUT_NECKS = ('CSPNeXtPAFPN', 'YOLOXPAFPN')


class Widened(NamedTuple):
    """How a module of mmyolo scales the widths of its config by its ``widen_factor``: its
    arguments ``keys`` (an int or a list each), by ``int(width * factor)``, or rounded up to
    a multiple of 8 (mmyolo's ``make_divisible``, where widths that are no multiple of 8
    would not be read as they are)."""
    keys: Tuple[str, ...]
    rounded_up_to_8: bool = False

    def width(self, width: int, factor: float) -> int:
        if self.rounded_up_to_8:
            return math.ceil(width * factor / 8) * 8
        return int(width * factor)


#: mmyolo's necks and head modules, and the widths their ``widen_factor`` multiplies (the
#: factor does nothing else in them). mmdet's and mmpose's CSPNeXtPAFPN and YOLOXPAFPN
#: take no ``widen_factor``; mmpose's HybridEncoder (RTMO) widens only its inner layers.
WIDENED_WIDTHS: Dict[str, Widened] = {
    **dict.fromkeys(('YOLOv5PAFPN', 'YOLOv8PAFPN'), Widened(('in_channels', 'out_channels'),
                                                            rounded_up_to_8=True)),
    **dict.fromkeys(('YOLOv6RepPAFPN', 'YOLOv6CSPRepPAFPN', 'YOLOv6RepBiPAFPN',
                     'YOLOv6CSPRepBiPAFPN', 'YOLOv7PAFPN', 'YOLOXPAFPN', 'PPYOLOECSPPAFPN',
                     'CSPNeXtPAFPN'), Widened(('in_channels', 'out_channels'))),
    **dict.fromkeys(('YOLOv5HeadModule', 'YOLOv7HeadModule', 'YOLOv8HeadModule'),
                    Widened(('in_channels', ), rounded_up_to_8=True)),
    'YOLOv5InsHeadModule': Widened(('in_channels', 'proto_channels'), rounded_up_to_8=True),
    **dict.fromkeys(('YOLOv6HeadModule', 'PPYOLOEHeadModule'), Widened(('in_channels', ))),
    **dict.fromkeys(('YOLOXHeadModule', 'YOLOXPoseHeadModule', 'RTMDetSepBNHeadModule',
                     'RTMDetInsSepBNHeadModule', 'RTMDetRotatedSepBNHeadModule'),
                    Widened(('in_channels', 'feat_channels'))),
}


def _fold_widen_factor(module: dict) -> None:
    """Fold an mmyolo module's ``widen_factor`` into the widths it multiplies
    (:data:`WIDENED_WIDTHS`): it builds the same widths with the factor 1, and the widths
    set after this are the ones it reads."""
    factor = module.get('widen_factor', 1.0)
    widened = WIDENED_WIDTHS.get(_type_name(module))
    if widened is None or factor == 1:  # mmpose's HybridEncoder widens only inside
        return
    for key in widened.keys:
        value = module.get(key)
        if isinstance(value, (list, tuple)):
            module[key] = type(value)(widened.width(v, factor) for v in value)
        elif isinstance(value, (int, float)):
            module[key] = widened.width(value, factor)
    module['widen_factor'] = 1.0


def _check_rounding(module: dict, widths: List[int]) -> None:
    """Refuse widths an mmyolo module would round up to a multiple of 8 and not read."""
    widened = WIDENED_WIDTHS.get(_type_name(module))
    if widened and widened.rounded_up_to_8 and any(width % 8 for width in widths):
        raise UnsupportedSwap(f'{_type_name(module)} rounds the widths it reads up to '
                              f'multiples of 8, and FasterNet\'s {widths} are not; take an '
                              f'arch whose embed_dims is a multiple of 8 (every named variant)')


def _selected_widths(neck: dict, widths: List[int]) -> List[int]:
    """mmpose's ``FeatureMapProcessor`` selects outputs (``select_index``) and may
    concatenate them (``concat``)."""
    select = neck.get('select_index')
    if select is not None:
        widths = [widths[i] for i in ([select] if isinstance(select, int) else select)]
    return [sum(widths)] if neck.get('concat') else widths


def _jpu_widths(neck: dict, widths: List[int]) -> List[int]:
    """mmseg's ``JPU`` passes the outputs it reads on, but for the last, which it replaces
    by its own (``mid_channels`` for each dilation)."""
    start, end = neck.get('start_level', 0), neck.get('end_level', -1)
    end = len(widths) if end == -1 else end + 1
    own = neck.get('mid_channels', 512) * len(neck.get('dilations', (1, 2, 4, 8)))
    return widths[start:end - 1] + [own]


def _pafpn_widths(neck: dict, widths: List[int]) -> Optional[List[int]]:
    """``CSPNeXtPAFPN`` without ``out_channels`` (RTMW) keeps the widths it reads."""
    if neck.get('out_channels', 256) is not None:
        return None
    return [widths[i] for i in neck.get('out_indices', (0, 1, 2))]


def _same_widths_out(neck: dict, widths: List[int]) -> List[int]:
    """mmyolo's YOLOv5 and YOLOv8 PAFPN give each output the width of its input (YOLOv8's
    takes ``out_channels`` equal to ``in_channels``)."""
    neck['out_channels'] = type(neck['in_channels'])(widths)
    return widths


#: Necks after which heads read FasterNet's widths, and which (None: none of them).
WIDTH_PASSING_NECKS: Dict[str, Callable[[dict, List[int]], Optional[List[int]]]] = {
    'GlobalAveragePooling': lambda neck, widths: widths,
    'FeatureMapProcessor': _selected_widths,
    'JPU': _jpu_widths,
    'CSPNeXtPAFPN': _pafpn_widths,
    **dict.fromkeys(('YOLOv5PAFPN', 'YOLOv8PAFPN'), _same_widths_out),
}
HEAD_KEYS = ('decode_head', 'auxiliary_head', 'head', 'panoptic_head', 'track_head',
             'rpn_head', 'bbox_head')
#: Heads inside a head that read the backbone: KNet's kernel generator, mmpose's
#: visibility head's pose head, InterNet's three heads, mmyolo's head modules.
NESTED_HEAD_KEYS = ('kernel_generate_head', 'pose_cfg', 'keypoint_head_cfg',
                    'root_head_cfg', 'hand_type_head_cfg', 'head_module')


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


def _fasternet_stages(backbone: dict, neck: Optional[dict],
                      scope: Optional[str]) -> Tuple[List[int], bool]:
    """The FasterNet stages that give the strides of ``backbone``'s outputs (after a
    resampling ``neck``'s scales), and whether the backbone was dilated.
    Strides are the ones the config runs; a dilated backbone whose outputs share a stride
    (mmseg's ``-d8``) maps stage by stage, as designed, and runs at output stride 32."""
    name = _type_name(backbone)
    if name in NOT_PYRAMIDS:
        raise UnsupportedSwap(f'{name} gives no image pyramid to match by stride: '
                              f'{NOT_PYRAMIDS[name]}')
    family = OUTPUT_STRIDES.get(name)
    if family is None:
        raise UnsupportedSwap(f'no stride record for this backbone (known: '
                              f'{", ".join(sorted(OUTPUT_STRIDES))}); set FasterNet\'s '
                              f'out_indices and the neck\'s in_channels by hand')
    outputs = family(BackboneArgs(backbone, scope))
    distinct = len(set(outputs.actual)) == len(outputs.actual)
    strides = outputs.actual if distinct else outputs.designed
    if neck and _type_name(neck) in RESAMPLING_NECKS:
        scales = list(neck.get('scales', [0.5, 1, 2, 4]))  # MultiLevelNeck's default
        if len(scales) != len(strides):
            raise UnsupportedSwap(f'the neck resamples {len(scales)} outputs, the backbone '
                                  f'gives {len(strides)}')
        strides = [stride / scale for stride, scale in zip(strides, scales)]
    if len(set(strides)) != len(strides) or strides != sorted(strides):
        raise UnsupportedSwap(f'its outputs have strides {tuple(strides)}; FasterNet gives '
                              f'one output per stride, from the finest (4, 8, 16, 32)')
    stages = []
    for stride in strides:
        stage = int(stride).bit_length() - 3  # 4 -> 0, ..., 32 -> 3
        if stride != 4 * 2**stage or not 0 <= stage < FasterNet.num_stages:
            raise UnsupportedSwap(f'an output of stride {stride:g}; FasterNet\'s stages have '
                                  f'strides 4, 8, 16 and 32')
        stages.append(stage)
    return stages, not distinct


def _listed(value) -> list:
    return [v for v in (value if isinstance(value, (list, tuple)) else [value]) if v]


def _widths_for(reader: dict, widths: List[int], order: str) -> None:
    """Set ``reader['in_channels']`` to ``widths`` as ``order`` reads them."""
    value = reader.get('in_channels')
    if order == LAST:
        reader['in_channels'] = widths[-1]
        return
    count = len(value) if isinstance(value, (list, tuple)) else 1
    if count != len(widths):
        raise UnsupportedSwap(f'the neck reads {count} inputs but the backbone gives '
                              f'{len(widths)}; set the neck\'s in_channels by hand')
    ordered = list(widths if order == IN_ORDER else reversed(widths))
    reader['in_channels'] = tuple(ordered) if isinstance(value, tuple) else ordered


def _check_groups(neck: dict, arch: Union[str, dict], stages: List[int],
                  widths: List[int]) -> None:
    """Refuse a neck whose GroupNorm runs on FasterNet's widths and cannot divide them,
    naming the variants and the group count that would."""
    norm = neck.get('norm_cfg')
    if _type_name(neck) not in GROUP_NORMED_INPUT_NECKS or not isinstance(norm, dict) or \
            norm.get('type') != 'GN':
        return
    groups = norm.get('num_groups', 32)
    if all(width % groups == 0 for width in widths):
        return
    fitting = [name for name in FasterNet.arch_zoo
               if all(width % groups == 0 for width in fasternet_widths(name, stages))]
    raise UnsupportedSwap(
        f'the neck normalises FasterNet\'s widths {widths} in GroupNorm of {groups} groups, '
        f'which do not divide them: swap in FasterNet {", ".join(fitting) or "(none)"}, or '
        f'set the neck\'s norm_cfg num_groups={math.gcd(groups, *widths)}')


def _head_widths(head: dict, widths: List[int]) -> None:
    """Set a head's input widths: by its ``in_index``, else all outputs for a list of
    ``in_channels`` and the last one for an int; and those of the heads inside it
    (:data:`NESTED_HEAD_KEYS`). An mmyolo head module's ``widen_factor`` is folded first."""
    if 'in_channels' in head:
        _fold_widen_factor(head)
        value, index = head['in_channels'], head.get('in_index')
        if isinstance(value, (list, tuple)):
            indices = index if isinstance(index, (list, tuple)) else range(len(widths))
            head['in_channels'] = [widths[i] for i in indices]
        else:
            head['in_channels'] = widths[index if isinstance(index, int) else -1]
            if head.get('num_convs') == 0 and head.get('channels') == value:
                # An FCN head without convs passes its input on: channels == in_channels.
                head['channels'] = head['in_channels']
        _check_rounding(head, _listed(head['in_channels']))
    if 'c1_in_channels' in head:  # DeepLabV3+ reads the first output for its low level
        head['c1_in_channels'] = widths[0]
    for key in NESTED_HEAD_KEYS:
        if isinstance(head.get(key), dict):
            _head_widths(head[key], widths)


def _res_layer_width(shared: dict) -> int:
    """The width mmdet's ``ResLayer`` (a ResNet stage run on every RoI) reads: that of the
    ResNet stage before it."""
    if _type_name(shared) != 'ResLayer':
        raise UnsupportedSwap(f'roi_head.shared_head ({_type_name(shared)}) has no record of '
                              f'the width it reads; take this detector\'s config with an FPN')
    expansion = 4 if shared.get('depth', 50) >= 50 else 1  # bottleneck or basic blocks
    return 64 * 2**(shared.get('stage', 3) - 1) * expansion


def _roi_head_widths(roi_head: dict, width: int) -> None:
    """Without a neck, an RoI head pools the backbone's last output: its RoI extractors
    give, and its box and mask heads read, that output's ``width``."""
    for key in ('bbox_roi_extractor', 'mask_roi_extractor'):
        for extractor in _listed(roi_head.get(key)):
            extractor['out_channels'] = width
    for key in ('bbox_head', 'mask_head'):
        for head in _listed(roi_head.get(key)):
            if 'in_channels' in head:
                head['in_channels'] = width


def _set_readers(model: dict, neck: Optional[dict], arch: Union[str, dict],
                 stages: List[int], dilated: bool) -> None:
    """Give whatever reads the backbone's outputs FasterNet's widths: the first neck, or
    the heads (after a neck that passes the widths on, or without one)."""
    widths = fasternet_widths(arch, stages)
    shared = (model.get('roi_head') or {}).get('shared_head')
    if neck is None and shared:
        # A C4 detector runs the next ResNet stage on every RoI: a 1x1 conv gives it the
        # width it reads from FasterNet's output, and everything after it stays.
        model['neck'] = ConfigDict(type='ChannelMapper', in_channels=widths, kernel_size=1,
                                   out_channels=_res_layer_width(shared))
        return
    if neck is not None:
        name = _type_name(neck)
        order = NECK_ORDERS.get(name)
        if order is None and name not in WIDTH_PASSING_NECKS:
            raise UnsupportedSwap(f'no record of how this neck reads the backbone (known: '
                                  f'{", ".join(sorted(NECK_ORDERS))}); set its in_channels '
                                  f'to FasterNet\'s widths {widths} by hand')
        if order is not None:
            _fold_widen_factor(neck)
            _widths_for(neck, widths, order)
            _check_rounding(neck, widths)
            _check_groups(neck, arch, stages, widths)
        if name in RESAMPLING_NECKS:  # FasterNet gives each stride it resampled to
            neck['scales'] = [1] * len(widths)
        passed = WIDTH_PASSING_NECKS.get(name, lambda neck, widths: None)(neck, widths)
        if passed is None:
            return
        widths = passed
    decode = model.get('decode_head')
    if dilated and isinstance(decode, (list, tuple)):
        # A cascade of decode heads (OCRNet) combines what each reads: outputs of one stride
        # in a dilated backbone; with FasterNet each reads the last one's.
        for head in decode:
            head['in_index'] = decode[-1].get('in_index', -1)
    for key in HEAD_KEYS:
        for head in _listed(model.get(key)):
            _head_widths(head, widths)
    if neck is None and model.get('roi_head'):
        _roi_head_widths(model['roi_head'], widths[-1])


def swap_in_fasternet(cfg: Union[Config, ConfigDict], arch: Union[str, dict] = 't0',
                      backbone_overrides: Optional[dict] = None,
                      scope: Optional[str] = None) -> Union[Config, ConfigDict]:
    """Return a copy of ``cfg`` whose backbone is FasterNet ``arch``, outputs matched by
    stride and the input widths of whatever reads them set (see the module's rule).

    A config whose backbone is FasterNet already keeps its FasterNet arguments
    (``init_cfg``, ``drop_path_rate``, ...; ``backbone_overrides`` win); for another
    ``arch`` its ``Pretrained`` weights would not fit, and ``backbone_overrides`` must set
    ``init_cfg``.

    Args:
        cfg (Config | ConfigDict): A full config (with ``model``) or a model config.
        arch (str | dict): The FasterNet variant, or a custom arch dict.
        backbone_overrides (dict, optional): Extra FasterNet arguments, e.g. ``init_cfg``.
        scope (str, optional): The registry scope of the config's backbone, to read the
            defaults of what the config leaves out. Defaults to the config's
            ``default_scope``.

    Raises:
        UnsupportedSwap: Before anything is built, in one line naming the config's backbone
            and neck types and why: the backbone gives no image pyramid, or has no record
            here; an output has a stride FasterNet does not give (it gives 4, 8, 16 and
            32); a reader cannot take FasterNet's widths; the config has no backbone,
            ``arch`` is not a FasterNet variant, or the config's FasterNet weights do not
            fit ``arch``. A ``ValueError``.
    """
    _parse_arch(arch)
    cfg = copy.deepcopy(cfg)
    model = _find_model(cfg)
    old = model['backbone']
    necks = model.get('neck')
    neck = (necks[0] if isinstance(necks, (list, tuple)) else necks) or None
    where = (f'swap_in_fasternet: backbone {_type_name(old)}, neck '
             f'{_type_name(neck) if neck else "none"}')
    try:
        if neck and _type_name(neck) in UNREADABLE_NECKS:
            raise UnsupportedSwap(f'the neck cannot take FasterNet: '
                                  f'{UNREADABLE_NECKS[_type_name(neck)]}')
        stages, dilated = _fasternet_stages(old, neck, scope or cfg.get('default_scope'))
        _set_readers(model, neck, arch, stages, dilated)
    except UnsupportedSwap as error:
        raise UnsupportedSwap(f'{where}: {error}') from None

    overrides = dict(backbone_overrides or {})
    kept = {}
    if _type_name(old) == 'FasterNet':
        kept = _kept_fasternet_args(old, model, arch, overrides)
    model.backbone = ConfigDict({**kept, 'type': 'FasterNet', 'arch': arch,
                                 'out_indices': tuple(stages), **overrides})
    same_fasternet = _type_name(old) == 'FasterNet' and _same_arch(old.get('arch', 't0'), arch)
    if model.get('pretrained') is not None and not same_fasternet:
        model.pretrained = None  # mmseg's: the old backbone's weights
    return cfg
