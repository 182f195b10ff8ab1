# Mask R-CNN FPN 1x on COCO 2017 with a FasterNet-S backbone: the paper's recipe
# (Sec. 4.4, App. Tab. 7): AdamW, lr 2e-4, weight decay 1e-4, 12 epochs, 500-iteration linear
# warm-up, steps at epochs 8 and 11, total batch 16 (2 images x 8 GPUs), 1333x800,
# stochastic depth 0.15. Everything else is mmdet's own Mask R-CNN base.
# Paper Tab. 4: 49.0M params, 258 GFLOPs, 39.9 box AP / 36.9 mask AP.
_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']
custom_imports = dict(imports=['mmfasternet'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='FasterNet',
        arch='s',
        drop_path_rate=0.15,
        out_indices=(0, 1, 2, 3),
        # Official ImageNet weights (github.com/JierunChen/FasterNet, release v1.0).
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/fasternet_s-epoch.299-val_acc1.81.2840.pth')),
    neck=dict(in_channels=[128, 256, 512, 1024]))

optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-4, weight_decay=1e-4))

# 8 GPUs x 2 images; `tools/train.py --auto-scale-lr` rescales lr for other batch sizes.
# Workers restart each epoch so that a resumed run draws the same augmentations.
train_dataloader = dict(batch_size=2, persistent_workers=False)
auto_scale_lr = dict(base_batch_size=16)

# Save the random-number states with each checkpoint: `--resume` continues exactly.
custom_hooks = [dict(type='mmfasternet.RandomStateHook')]
