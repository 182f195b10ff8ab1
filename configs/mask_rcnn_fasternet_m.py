# Mask R-CNN FPN 1x, FasterNet-M: the paper's lr 1e-4 and stochastic depth 0.2.
# Paper Tab. 4: 71.2M params, 344 GFLOPs, 43.0 box AP / 39.1 mask AP.
_base_ = ['./mask_rcnn_fasternet_s.py']

model = dict(
    backbone=dict(
        arch='m',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/fasternet_m-epoch.291-val_acc1.82.9620.pth')),
    neck=dict(in_channels=[144, 288, 576, 1152]))
optim_wrapper = dict(optimizer=dict(lr=1e-4))
