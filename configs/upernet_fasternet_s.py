# UperNet on ADE20K (512x512 crops, 160k iterations) with a FasterNet-S backbone.
#
# The FasterNet paper publishes no segmentation results: this recipe is ours. It inherits
# mmseg's UperNet-ResNet-50 ADE20K config (batch 16 = 4 GPUs x 4 images, 160k iterations,
# 512x512 crops, UPerHead on all four stages, FCN auxiliary head on stage 3) and replaces
# the SGD schedule with the AdamW recipe mmseg uses for UperNet on hierarchical backbones
# (configs/swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py):
# AdamW lr 6e-5, betas (0.9, 0.999), weight decay 0.01 (none on norm layers), 1500-iteration
# linear warm-up, then poly decay (power 1) to 160k. Swin-T is the closest published
# UperNet backbone to FasterNet-S in size and speed, and like FasterNet it is trained with
# AdamW on ImageNet. Stochastic depth follows the detection configs (0.15 for S).
# Testing slides a 512x512 window with stride 341.
_base_ = ['mmseg::upernet/upernet_r50_4xb4-160k_ade20k-512x512.py']
custom_imports = dict(imports=['mmfasternet'], allow_failed_imports=False)

model = dict(
    pretrained=None,  # mmseg's base names a ResNet checkpoint here
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
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512),
    test_cfg=dict(mode='slide', crop_size=(512, 512), stride=(341, 341)))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(norm_decay_mult=0.))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=160000, by_epoch=False),
]
