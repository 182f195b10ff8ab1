import os.path as osp

import pytest
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from conftest import REPO, run_tool
from mmfasternet import FasterNet

# Paper Tab. 4 (Mask R-CNN 1x): params in millions.
PAPER_PARAMS = {'s': 49.0, 'm': 71.2, 'l': 110.9}
ARCHS = ('t0', 't1', 't2', 's', 'm', 'l')


@pytest.fixture(autouse=True)
def mmdet_scope():
    init_default_scope('mmdet')


def load(name):
    return Config.fromfile(osp.join(REPO, 'configs', name))


@pytest.mark.parametrize('arch', ARCHS)
def test_mask_rcnn_configs_build_with_the_paper_recipe(arch):
    cfg = load(f'mask_rcnn_fasternet_{arch}.py')
    backbone = cfg.model.backbone
    assert backbone.type == 'FasterNet' and backbone.arch == arch
    assert 'depth' not in backbone  # the ResNet arguments are gone
    width = FasterNet.arch_zoo[arch]['embed_dims']
    assert cfg.model.neck.in_channels == [width, 2 * width, 4 * width, 8 * width]
    assert cfg.custom_imports.imports == ['mmfasternet']
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'AdamW' and 'momentum' not in optimizer
    assert optimizer.lr == (1e-4 if arch in ('m', 'l') else 2e-4)
    assert optimizer.weight_decay == 1e-4
    assert backbone.drop_path_rate == {'t0': 0, 't1': 0.02, 't2': 0.05, 's': 0.15, 'm': 0.2,
                                       'l': 0.3}[arch]
    assert cfg.train_cfg.max_epochs == 12
    assert [s.type for s in cfg.param_scheduler] == ['LinearLR', 'MultiStepLR']
    assert cfg.param_scheduler[0].end == 500 and cfg.param_scheduler[1].milestones == [8, 11]
    assert cfg.train_dataloader.batch_size == 2 and cfg.auto_scale_lr.base_batch_size == 16
    assert osp.basename(backbone.init_cfg.checkpoint).startswith(f'fasternet_{arch}-epoch.')
    if arch in PAPER_PARAMS:
        model = MODELS.build(cfg.model)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        assert params == pytest.approx(PAPER_PARAMS[arch], rel=0.01)


def test_missing_official_weights_say_where_to_get_them():
    cfg = load('mask_rcnn_fasternet_t0.py')
    cfg.model.backbone.init_cfg.checkpoint = (
        '/nonexistent/fasternet_t0-epoch.281-val_acc1.71.9180.pth')
    model = MODELS.build(cfg.model)
    with pytest.raises(FileNotFoundError) as error:
        model.init_weights()
    message = str(error.value)
    assert ('https://github.com/JierunChen/FasterNet/releases/download/v1.0/'
            'fasternet_t0-epoch.281-val_acc1.71.9180.pth') in message
    assert '--cfg-options model.backbone.init_cfg=None' in message


def test_train_without_coco_stops_with_what_is_missing(tmp_path):
    result = run_tool(osp.join(REPO, 'tools', 'train.py'),
                      osp.join(REPO, 'configs', 'mask_rcnn_fasternet_s.py'), cwd=tmp_path,
                      timeout=120, check=False)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert ('train_dataloader (CocoDataset): data/coco/annotations/instances_train2017.json '
            'does not exist') in result.stderr
    assert 'data/coco/train2017/ does not exist' in result.stderr
    assert '--cfg-options train_dataloader.dataset.data_root=' in result.stderr
    assert not (tmp_path / 'work_dirs').exists()
