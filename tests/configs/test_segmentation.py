"""UperNet configs, the toy ADE20K-format set, the tools on segmentation, and FasterNet
swapped into mmseg's own segmentors."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.datasets import BaseSegDataset
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from conftest import REPO, run_tool, train_step_then_predict
from mmfasternet import FasterNet
from mmfasternet.models.backbone_swap import swap_in_fasternet
from mmfasternet.testing import TOY_ADE_CLASSES, generate_toy_ade, toy_ade_exists
from toy_configs import write_toy_config

ARCHS = ('t0', 't1', 't2', 's', 'm', 'l')


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


@pytest.mark.long
@pytest.mark.parametrize('arch', ARCHS)
def test_upernet_configs(arch):
    cfg = Config.fromfile(osp.join(REPO, 'configs', f'upernet_fasternet_{arch}.py'))
    model = cfg.model
    c = FasterNet.arch_zoo[arch]['embed_dims']
    assert model.pretrained is None
    assert model.backbone.type == 'FasterNet' and model.backbone.arch == arch
    assert model.decode_head.in_channels == [c, 2 * c, 4 * c, 8 * c]
    assert model.decode_head.in_index == [0, 1, 2, 3]
    assert model.auxiliary_head.in_channels == 4 * c and model.auxiliary_head.in_index == 2
    assert model.decode_head.num_classes == 150 and model.decode_head.norm_cfg.type == 'SyncBN'
    assert model.test_cfg.mode == 'slide' and model.test_cfg.crop_size == (512, 512)
    assert cfg.optim_wrapper.optimizer.type == 'AdamW' and cfg.optim_wrapper.optimizer.lr == 6e-5
    assert [s.type for s in cfg.param_scheduler] == ['LinearLR', 'PolyLR']
    assert cfg.param_scheduler[0].end == 1500 and cfg.train_cfg.max_iters == 160000
    assert cfg.train_dataloader.batch_size * 4 == 16
    assert cfg.train_dataloader.dataset.type == 'ADE20KDataset'
    assert osp.basename(model.backbone.init_cfg.checkpoint).startswith(f'fasternet_{arch}-')
    built = MODELS.build(model)
    assert isinstance(built.backbone, FasterNet)


def test_toy_ade_is_deterministic_and_follows_ade_conventions(tmp_path, tiny_toy_ade):
    assert not toy_ade_exists(str(tmp_path))
    generate_toy_ade(str(tmp_path), num_train=8, num_val=4, image_size=128, seed=2)
    assert toy_ade_exists(str(tmp_path))
    for split in ('training', 'validation'):
        names = sorted(os.listdir(tiny_toy_ade / 'annotations' / split))
        assert names == sorted(os.listdir(tmp_path / 'annotations' / split))
        for name in names:
            a = cv2.imread(str(tiny_toy_ade / 'annotations' / split / name), cv2.IMREAD_UNCHANGED)
            b = cv2.imread(str(tmp_path / 'annotations' / split / name), cv2.IMREAD_UNCHANGED)
            assert np.array_equal(a, b) and a.dtype == np.uint8
    labels = np.unique(np.concatenate([
        cv2.imread(str(p), cv2.IMREAD_UNCHANGED).ravel()
        for p in (tiny_toy_ade / 'annotations' / 'training').iterdir()]))
    assert labels.min() == 0 and set(labels) <= set(range(7)) and len(labels) >= 6

    dataset = BaseSegDataset(
        data_root=str(tiny_toy_ade), metainfo=dict(classes=TOY_ADE_CLASSES), img_suffix='.jpg',
        seg_map_suffix='.png', reduce_zero_label=True,
        data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
        pipeline=[dict(type='LoadAnnotations')])
    assert len(dataset) == 4
    seg = dataset[0]['gt_seg_map']
    assert set(np.unique(seg)) <= {0, 1, 2, 3, 4, 5, 255}  # 0 ("other") became ignore


@pytest.mark.long
def test_train_and_test_tools_serve_segmentation(tmp_path, tiny_toy_ade):
    config = write_toy_config('seg', tmp_path, tiny_toy_ade)
    work_dir = tmp_path / 'work'
    result = run_tool(osp.join(REPO, 'tools', 'train.py'), config, '--work-dir', str(work_dir))
    assert 'mIoU' in result.stdout + result.stderr
    show_dir = tmp_path / 'overlays'
    result = run_tool(osp.join(REPO, 'tools', 'test.py'), config, str(work_dir / 'iter_4.pth'),
                      '--work-dir', str(work_dir), '--show-dir', str(show_dir))
    assert 'mIoU:' in result.stdout + result.stderr
    drawn = [f for _, _, files in os.walk(show_dir) for f in files if f.endswith('.png')]
    assert len(drawn) == 4


def test_train_without_ade_stops_with_what_is_missing(tmp_path):
    result = run_tool(osp.join(REPO, 'tools', 'train.py'),
                      osp.join(REPO, 'configs', 'upernet_fasternet_t0.py'), cwd=tmp_path,
                      timeout=120, check=False)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert ('train_dataloader (ADE20KDataset): '
            'data/ade/ADEChallengeData2016/images/training does not exist') in result.stderr
    assert 'ADE20KDataset expects ADEChallengeData2016' in result.stderr


MMSEG_CONFIGS = {
    'sem_fpn/fpn_r50_4xb4-160k_ade20k-512x512.py': ('neck', [40, 80, 160, 320]),
    'deeplabv3plus/deeplabv3plus_r50-d8_4xb4-80k_ade20k-512x512.py': ('decode_head', 320),
    'pspnet/pspnet_r50-d8_4xb4-80k_ade20k-512x512.py': ('decode_head', 320),
    'danet/danet_r50-d8_4xb4-80k_ade20k-512x512.py': ('decode_head', 320),
    'apcnet/apcnet_r50-d8_4xb4-80k_ade20k-512x512.py': ('decode_head', 320),
}


@pytest.mark.parametrize('config', sorted(MMSEG_CONFIGS))
def test_fasternet_trains_and_predicts_in_mmseg_segmentors(config):
    cfg = swap_in_fasternet(get_config(f'mmseg::{config}'), 't0')
    reader, channels = MMSEG_CONFIGS[config]
    assert cfg.model[reader].in_channels == channels
    if 'auxiliary_head' in cfg.model and reader == 'decode_head':
        assert cfg.model.auxiliary_head.in_channels == 160
    if 'deeplabv3plus' in config:
        assert cfg.model.decode_head.c1_in_channels == 40
    cfg.model.data_preprocessor.size = (128, 128)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    gen = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(128, 128), ori_shape=(128, 128),
                                             pad_shape=(128, 128)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 150, (1, 128, 128), generator=gen))
        samples.append(sample)
    packed = dict(inputs=[torch.randint(0, 255, (3, 128, 128), generator=gen,
                                        dtype=torch.uint8) for _ in range(2)],
                  data_samples=samples)
    results = train_step_then_predict(model, packed)
    assert results[0].pred_sem_seg.data.shape == (1, 128, 128)
