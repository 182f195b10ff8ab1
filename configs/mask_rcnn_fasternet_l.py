# Mask R-CNN FPN 1x, FasterNet-L: the paper's lr 1e-4 and stochastic depth 0.3.
# Paper Tab. 4: 110.9M params, 484 GFLOPs, 44.0 box AP / 39.9 mask AP.
_base_ = ['./mask_rcnn_fasternet_s.py']

model = dict(
    backbone=dict(
        arch='l',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/fasternet_l-epoch.299-val_acc1.83.5060.pth')),
    neck=dict(in_channels=[192, 384, 768, 1536]))
optim_wrapper = dict(optimizer=dict(lr=1e-4))
