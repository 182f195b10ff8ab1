"""docs/custom_dataset.md, end to end: its config, as written, trains and evaluates on a
COCO-format dataset of the user's own classes."""
import os
import os.path as osp
import re
import textwrap

import pytest

from conftest import REPO, final_metrics, run_tool
from mmfasternet.checkpoint import load_weights_only

GUIDE = osp.join(REPO, 'docs', 'custom_dataset.md')

# The guide's config on the toy Mask R-CNN instead of FasterNet-S: the toy config is the real
# one sized for a CPU (T0, narrow heads, fewer proposals, 256x256 images); the data, classes
# and heads stay the guide's.
TOY_BASE = osp.join(REPO, 'configs', 'toy', 'mask_rcnn_fasternet_t0_toy.py')
ONE_EPOCH = textwrap.dedent("""
    _base_ = ['./my_mask_rcnn.py']
    train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False)
    val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False)
    test_dataloader = val_dataloader
    train_cfg = dict(max_epochs=1, val_interval=1)
    param_scheduler = []
""")


def guide_config():
    """The guide's one Python block: the user's config."""
    blocks = re.findall(r'```python\n(.*?)```', open(GUIDE).read(), re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_the_guides_config_as_written_reads_the_users_data_and_classes(tmp_path):
    from mmengine.config import Config
    (tmp_path / 'my_mask_rcnn.py').write_text(guide_config())
    cfg = Config.fromfile(str(tmp_path / 'my_mask_rcnn.py'))
    assert cfg.model.backbone.arch == 's'
    assert cfg.model.roi_head.bbox_head.num_classes == cfg.model.roi_head.mask_head.num_classes == 4
    for loader, split in ((cfg.train_dataloader, 'train'), (cfg.val_dataloader, 'val')):
        assert loader.dataset.data_root == 'data/my_dataset/'
        assert loader.dataset.ann_file == f'annotations/instances_{split}.json'
        assert loader.dataset.metainfo.classes == ('sun', 'tile', 'leaf', 'gem')
    assert cfg.test_evaluator.ann_file == 'data/my_dataset/annotations/instances_val.json'


@pytest.mark.long
def test_the_guides_config_trains_on_a_coco_format_dataset(tmp_path, tiny_toy_coco):
    project = tmp_path / 'my_project'
    os.makedirs(project / 'data')
    os.symlink(tiny_toy_coco, project / 'data' / 'my_dataset')
    base = "_base_ = ['mmfasternet::mask_rcnn_fasternet_s.py']"
    assert guide_config().startswith(base)
    (project / 'my_mask_rcnn.py').write_text(
        guide_config().replace(base, f'_base_ = [{TOY_BASE!r}]'))
    (project / 'cpu_sized.py').write_text(ONE_EPOCH)

    run_tool(osp.join(REPO, 'tools', 'train.py'), 'cpu_sized.py', '--work-dir',
             'work_dirs/my_mask_rcnn', cwd=project)
    work_dir = project / 'work_dirs' / 'my_mask_rcnn'
    assert (work_dir / 'epoch_1.pth').exists()
    metrics = final_metrics(work_dir)
    assert {'coco/bbox_mAP', 'coco/segm_mAP'} <= set(metrics)
    checkpoint = load_weights_only(str(work_dir / 'epoch_1.pth'))
    assert tuple(checkpoint['meta']['dataset_meta']['classes']) == ('sun', 'tile', 'leaf', 'gem')
    state = checkpoint['state_dict']
    assert state['roi_head.bbox_head.fc_cls.weight'].shape[0] == 4 + 1  # + background
    assert state['roi_head.mask_head.conv_logits.weight'].shape[0] == 4

    result = run_tool(osp.join(REPO, 'tools', 'test.py'), 'cpu_sized.py',
                      str(work_dir / 'epoch_1.pth'), '--work-dir', str(work_dir), cwd=project)
    assert 'coco/segm_mAP:' in result.stdout + result.stderr
