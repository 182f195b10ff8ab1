"""FasterNet in mmpose: swapped into a top-down heatmap model and an RTMPose model of
mmpose's model zoo, each of which takes a training step and predicts keypoints on mmpose's
packed inputs (test_registry.py builds it from mmpose's registry)."""
import pytest
import torch
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS
from mmpose.testing import get_packed_inputs

from conftest import train_step_then_predict
from mmfasternet import FasterNet
from mmfasternet.models.backbone_swap import swap_in_fasternet

# config: the head's input channels with FasterNet-T0 (both read the stride-32 output)
MMPOSE_CONFIGS = {
    'body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py': 320,
    'body_2d_keypoint/rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py': 320,
}


@pytest.fixture(autouse=True)
def mmpose_scope():
    init_default_scope('mmpose')


@pytest.mark.parametrize('config', sorted(MMPOSE_CONFIGS))
def test_fasternet_trains_and_predicts_in_mmpose_models(config):
    cfg = swap_in_fasternet(get_config(f'mmpose::{config}'), 't0')
    assert cfg.model.backbone.out_indices == (3, )  # ResNet's default (3,), CSPNeXt's (4,)
    assert cfg.model.head.in_channels == MMPOSE_CONFIGS[config]
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))  # RTMPose's SyncBN, on one CPU
    model.init_weights()
    assert isinstance(model.backbone, FasterNet)

    codec = cfg.codec
    w, h = codec['input_size']
    heatmap = codec.get('heatmap_size', (w // 4, h // 4))
    packed = get_packed_inputs(batch_size=2, img_shape=(h, w), input_size=(w, h),
                               heatmap_size=heatmap,
                               simcc_split_ratio=codec.get('simcc_split_ratio', 2.0))
    results = train_step_then_predict(model, packed)
    assert len(results) == 2
    keypoints = results[0].pred_instances.keypoints
    assert keypoints.shape == (1, 17, 2)
    assert results[0].pred_instances.keypoint_scores.shape == (1, 17)
