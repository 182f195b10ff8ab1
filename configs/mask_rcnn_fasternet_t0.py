# Mask R-CNN FPN 1x, FasterNet-T0. The paper trains only S/M/L detectors; the tiny variants
# keep S's lr 2e-4 (the paper lowers lr only as models grow) and the stochastic depth of
# their ImageNet recipe (App. Tab. 6: T0 0, T1 0.02, T2 0.05).
_base_ = ['./mask_rcnn_fasternet_s.py']

model = dict(
    backbone=dict(
        arch='t0',
        drop_path_rate=0.0,
        init_cfg=dict(checkpoint='checkpoints/fasternet_t0-epoch.281-val_acc1.71.9180.pth')),
    neck=dict(in_channels=[40, 80, 160, 320]))
