"""FasterNet swapped, by stride, into detectors of mmdet's own model zoo: one training step
and one inference each, on tiny inputs; configs the rule has no record for stop in one line."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from conftest import train_step_then_predict
from mmfasternet import MMFasterNetError
from mmfasternet.models.backbone_swap import UnsupportedSwap, swap_in_fasternet

ALL = (0, 1, 2, 3)
# config: (FasterNet's out_indices, the neck's in_channels for T0)
MMDET_CONFIGS = {
    'retinanet/retinanet_r50_fpn_1x_coco.py': (ALL, [40, 80, 160, 320]),
    'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py': (ALL, [40, 80, 160, 320]),
    'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py': (ALL, [40, 80, 160, 320]),
    'cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py': (ALL, [40, 80, 160, 320]),
    'atss/atss_r50_fpn_1x_coco.py': (ALL, [40, 80, 160, 320]),
    'dino/dino-4scale_r50_8xb2-12e_coco.py': ((1, 2, 3), [80, 160, 320]),
    'yolof/yolof_r50-c5_8xb8-1x_coco.py': ((3, ), 320),
    # CSPDarknet and CSPNeXt count their stride-2 stem as output 0: (2, 3, 4) are 8, 16, 32.
    'yolox/yolox_s_8xb8-300e_coco.py': ((1, 2, 3), [80, 160, 320]),
    'rtmdet/rtmdet_s_8xb32-300e_coco.py': ((1, 2, 3), [80, 160, 320]),
    'rtmdet/rtmdet-ins_s_8xb32-300e_coco.py': ((1, 2, 3), [80, 160, 320]),
    # Darknet's output 0 is its stride-1 conv; YOLOv3's neck reads the coarsest output first.
    'yolo/yolov3_d53_8xb8-ms-608-273e_coco.py': ((1, 2, 3), [320, 160, 80]),
}


@pytest.fixture(autouse=True)
def mmdet_scope():
    init_default_scope('mmdet')


@pytest.mark.parametrize('config', sorted(MMDET_CONFIGS))
def test_fasternet_trains_and_predicts_in_mmdet_detectors(config):
    cfg = swap_in_fasternet(get_config(f'mmdet::{config}'), 't0')
    out_indices, in_channels = MMDET_CONFIGS[config]
    assert cfg.model.backbone.out_indices == out_indices
    assert cfg.model.neck.in_channels == in_channels
    cfg.model.data_preprocessor.batch_augments = None  # YOLOX's random batch resizing
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))  # RTMDet's SyncBN, on one CPU
    model.init_weights()
    assert type(model.backbone).__name__ == 'FasterNet'

    with_mask = 'mask' in config or '-ins' in config
    h, w = (256, 320) if 'dino' in config else (128, 160)  # DINO keeps 900 queries
    packed = demo_mm_inputs(batch_size=1, image_shapes=[(3, h, w)], num_items=[3],
                            num_classes=80, with_mask=with_mask)
    results = train_step_then_predict(model, packed)
    instances = results[0].pred_instances
    assert instances.bboxes.ndim == 2 and instances.bboxes.shape[1] == 4
    assert len(instances.scores) == len(instances.bboxes)
    if with_mask:
        assert instances.masks.shape[1:] == (h, w)


@pytest.mark.parametrize('edit, backbone, neck', [
    (dict(backbone=dict(type='LiteHRNet')), 'LiteHRNet', 'FPN'),
    (dict(neck=dict(type='SSDNeck')), 'ResNet', 'SSDNeck'),
    (dict(backbone=dict(type='CSPNeXt', arch='P6', out_indices=(2, 3, 4, 5))), 'CSPNeXt',
     'FPN'),
])
def test_a_config_the_rule_cannot_map_stops_in_one_line_naming_its_types(edit, backbone, neck):
    cfg = get_config('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py')
    for key, value in edit.items():
        cfg.model[key] = value
    with pytest.raises(UnsupportedSwap) as error:
        swap_in_fasternet(cfg, 't0')
    message = str(error.value)
    assert len(message.splitlines()) == 1
    assert f'backbone {backbone}, neck {neck}' in message
    if backbone == 'CSPNeXt':
        assert 'stride 64' in message  # P6's fifth output


def test_a_backbone_without_out_indices_maps_its_class_default():
    cfg = get_config('mmdet::yolox/yolox_s_8xb8-300e_coco.py')
    del cfg.model.backbone.out_indices  # CSPDarknet's default is (2, 3, 4)
    swapped = swap_in_fasternet(cfg, 's')
    assert swapped.model.backbone.out_indices == (1, 2, 3)
    assert swapped.model.neck.in_channels == [256, 512, 1024]


def retinanet():
    return get_config('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py')


def swap_stops(*args, **kwargs) -> str:
    """The one-line message of the :class:`UnsupportedSwap` (a ``ValueError`` and an
    :class:`MMFasterNetError`) that ``swap_in_fasternet(*args, **kwargs)`` raises."""
    with pytest.raises(UnsupportedSwap) as error:
        swap_in_fasternet(*args, **kwargs)
    assert isinstance(error.value, ValueError) and isinstance(error.value, MMFasterNetError)
    message = str(error.value)
    assert len(message.splitlines()) == 1, message
    return message


@pytest.mark.parametrize('arch, words', [
    ('t9', ["'t9'", 'unknown', 't0, t1, t2, s, m, l', 'custom arch dict']),
    (dict(embed_dims=40), ['embed_dims and depths', "missing ['depths']"]),
    (dict(embed_dims=40, depths=[1, 2, 8, 2], width=3), ["unknown arch keys ['width']"]),
    (7, ['str or a dict', 'int']),
])
def test_an_arch_that_is_no_fasternet_stops_in_one_line_naming_the_variants(arch, words):
    message = swap_stops(retinanet(), arch)
    assert all(word in message for word in words), message


def test_a_custom_arch_dict_and_any_case_of_a_variant_name_are_swapped_in():
    cfg = swap_in_fasternet(retinanet(), dict(embed_dims=32, depths=(1, 2, 8, 2)))
    assert cfg.model.neck.in_channels == [32, 64, 128, 256]
    assert swap_in_fasternet(retinanet(), 'S').model.neck.in_channels == [128, 256, 512, 1024]


@pytest.mark.parametrize('cfg, words', [
    (Config(dict(default_scope='mmdet', train_cfg=dict(max_epochs=1))),
     ['no model and no backbone', 'default_scope, train_cfg', 'model.backbone']),
    (Config(dict(model=dict(type='ByteTrack', detector=dict(type='YOLOX')))),
     ["model has no backbone", 'detector, type', 'model.detector']),
    (ConfigDict(type='RetinaNet', neck=dict(type='FPN')),
     ['no model and no backbone', 'neck, type', 'model config with a backbone']),
    (ConfigDict(type='RetinaNet', backbone=None), ['model has no backbone', 'backbone, type']),
    (Config(dict(model=None)), ['model has no backbone', 'None']),
])
def test_a_config_without_a_backbone_stops_in_one_line_saying_what_to_pass(cfg, words):
    message = swap_stops(cfg, 't0')
    assert all(word in message for word in words), message


PRETRAINED_T0 = dict(type='Pretrained', checkpoint='fasternet_t0.pth')


def swapped_once(**arguments):
    return swap_in_fasternet(retinanet(), 't0', dict(init_cfg=PRETRAINED_T0, **arguments))


def test_a_config_swapped_again_keeps_the_users_fasternet_arguments_overrides_winning():
    twice = swap_in_fasternet(swapped_once(drop_path_rate=0.1, frozen_stages=1), 'T0',
                              dict(frozen_stages=0))
    assert twice.model.backbone == dict(type='FasterNet', arch='T0', out_indices=(0, 1, 2, 3),
                                        init_cfg=PRETRAINED_T0, drop_path_rate=0.1,
                                        frozen_stages=0)
    assert twice.model.neck.in_channels == [40, 80, 160, 320]


def test_another_arch_refuses_the_old_arch_weights_and_takes_new_ones_from_the_overrides():
    message = swap_stops(swapped_once(drop_path_rate=0.1), 't1')
    assert all(word in message for word in ("'t0'", 'fasternet_t0.pth', "'t1'", 'do not fit',
                                            'backbone_overrides', 'init_cfg')), message
    pretrained_t1 = dict(type='Pretrained', checkpoint='fasternet_t1.pth')
    cfg = swap_in_fasternet(swapped_once(drop_path_rate=0.1), 't1',
                            dict(init_cfg=pretrained_t1))
    assert cfg.model.backbone == dict(type='FasterNet', arch='t1', out_indices=(0, 1, 2, 3),
                                      init_cfg=pretrained_t1, drop_path_rate=0.1)
    assert cfg.model.neck.in_channels == [64, 128, 256, 512]
    # Without weights to lose, the other arguments carry over.
    cfg = swap_in_fasternet(swap_in_fasternet(retinanet(), 't0', dict(drop_path_rate=0.1)), 's')
    assert cfg.model.backbone.drop_path_rate == 0.1 and cfg.model.backbone.arch == 's'


def test_a_segmentor_keeps_its_fasternet_pretrained_for_the_same_arch_only():
    model = ConfigDict(type='EncoderDecoder', pretrained='fasternet_t0.pth',
                       backbone=dict(type='FasterNet', arch='t0', out_indices=(0, 1, 2, 3)),
                       decode_head=dict(type='UPerHead', in_channels=[1, 2, 3, 4],
                                        in_index=[0, 1, 2, 3]))
    assert swap_in_fasternet(model, 't0').pretrained == 'fasternet_t0.pth'
    assert 'fasternet_t0.pth' in swap_stops(model, 'm')
    swapped = swap_in_fasternet(model, 'm', dict(init_cfg=None))
    assert swapped.pretrained is None and swapped.backbone.init_cfg is None
    assert swapped.decode_head.in_channels == [144, 288, 576, 1152]
