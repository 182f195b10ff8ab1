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

# What makes the guide's FasterNet-S config affordable on a CPU; nothing about the data.
CPU_SIZED = textwrap.dedent("""
    _base_ = ['./my_mask_rcnn.py']
    width = 64  # FPN and head channels, as in configs/toy/mask_rcnn_fasternet_t0_toy.py
    model = dict(
        backbone=dict(arch='t0', init_cfg=None),
        neck=dict(in_channels=[40, 80, 160, 320], out_channels=width),
        rpn_head=dict(in_channels=width, feat_channels=width),
        roi_head=dict(
            bbox_roi_extractor=dict(out_channels=width),
            bbox_head=dict(in_channels=width, fc_out_channels=256),
            mask_roi_extractor=dict(out_channels=width),
            mask_head=dict(in_channels=width, conv_out_channels=width)),
        train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=300),
                       rcnn=dict(sampler=dict(num=64))),
        test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300)))
    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
        dict(type='Resize', scale=(256, 256), keep_ratio=True),
        dict(type='PackDetInputs'),
    ]
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(256, 256), keep_ratio=True),
        dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
        dict(type='PackDetInputs',
             meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
    ]
    train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                            dataset=dict(pipeline=train_pipeline))
    val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                          dataset=dict(pipeline=test_pipeline))
    test_dataloader = val_dataloader
    train_cfg = dict(max_epochs=1, val_interval=1)
    param_scheduler = []
""")


def guide_config():
    """The guide's one Python block: the user's config."""
    blocks = re.findall(r'```python\n(.*?)```', open(GUIDE).read(), re.S)
    assert len(blocks) == 1
    return blocks[0]


@pytest.mark.long
def test_the_guides_config_trains_on_a_coco_format_dataset(tmp_path, tiny_toy_coco):
    project = tmp_path / 'my_project'
    os.makedirs(project / 'data')
    os.symlink(tiny_toy_coco, project / 'data' / 'my_dataset')
    (project / 'my_mask_rcnn.py').write_text(guide_config())
    (project / 'cpu_sized.py').write_text(CPU_SIZED)

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
