# UperNet on ADE20K with FasterNet-T0: the recipe of upernet_fasternet_s.py (ours; the paper
# has no segmentation results), with the backbone's widths and stochastic depth 0.0.
_base_ = ['./upernet_fasternet_s.py']

model = dict(
    backbone=dict(
        arch='t0',
        drop_path_rate=0.0,
        init_cfg=dict(checkpoint='checkpoints/fasternet_t0-epoch.281-val_acc1.71.9180.pth')),
    decode_head=dict(in_channels=[40, 80, 160, 320]),
    auxiliary_head=dict(in_channels=160))
