"""FasterNet swapped into detectors of mmdet's own model zoo: one training step and one
inference each, on tiny inputs."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmengine.hub import get_config
from mmengine.registry import init_default_scope

from conftest import train_step_then_predict
from mmfasternet.models.backbone_swap import swap_in_fasternet

MMDET_CONFIGS = {
    'retinanet/retinanet_r50_fpn_1x_coco.py': [40, 80, 160, 320],
    'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py': [40, 80, 160, 320],
    'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py': [40, 80, 160, 320],
    'cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py': [40, 80, 160, 320],
    'atss/atss_r50_fpn_1x_coco.py': [40, 80, 160, 320],
    'dino/dino-4scale_r50_8xb2-12e_coco.py': [80, 160, 320],
    'yolof/yolof_r50-c5_8xb8-1x_coco.py': 320,
}


@pytest.fixture(autouse=True)
def mmdet_scope():
    init_default_scope('mmdet')


@pytest.mark.parametrize('config', sorted(MMDET_CONFIGS))
def test_fasternet_trains_and_predicts_in_mmdet_detectors(config):
    cfg = swap_in_fasternet(get_config(f'mmdet::{config}'), 't0')
    neck = cfg.model.neck
    assert neck.in_channels == MMDET_CONFIGS[config]
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert type(model.backbone).__name__ == 'FasterNet'

    with_mask = 'mask' in config
    h, w = (256, 320) if 'dino' in config else (128, 160)  # DINO keeps 900 queries
    packed = demo_mm_inputs(batch_size=1, image_shapes=[(3, h, w)], num_items=[3],
                            num_classes=80, with_mask=with_mask)
    results = train_step_then_predict(model, packed)
    instances = results[0].pred_instances
    assert instances.bboxes.ndim == 2 and instances.bboxes.shape[1] == 4
    assert len(instances.scores) == len(instances.bboxes)
    if with_mask:
        assert instances.masks.shape[1:] == (h, w)
