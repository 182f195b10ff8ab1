"""FasterNet swapped, by stride, into detectors of mmdet's own model zoo: one training step
and one inference each, on tiny inputs; configs the rule has no record for stop in one line."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from conftest import train_step_then_predict
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
    (dict(backbone=dict(type='MobileNetV2', out_indices=(2, 4, 6))), 'MobileNetV2', 'FPN'),
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
