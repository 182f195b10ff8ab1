# UperNet on ADE20K with FasterNet-M: the recipe of upernet_fasternet_s.py (ours; the paper
# has no segmentation results), with the backbone's widths and stochastic depth 0.2.
_base_ = ['./upernet_fasternet_s.py']

model = dict(
    backbone=dict(
        arch='m',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/fasternet_m-epoch.291-val_acc1.82.9620.pth')),
    decode_head=dict(in_channels=[144, 288, 576, 1152]),
    auxiliary_head=dict(in_channels=576))
