# UperNet on ADE20K with FasterNet-T2: the recipe of upernet_fasternet_s.py (ours; the paper
# has no segmentation results), with the backbone's widths and stochastic depth 0.05.
_base_ = ['./upernet_fasternet_s.py']

model = dict(
    backbone=dict(
        arch='t2',
        drop_path_rate=0.05,
        init_cfg=dict(checkpoint='checkpoints/fasternet_t2-epoch.289-val_acc1.78.8860.pth')),
    decode_head=dict(in_channels=[96, 192, 384, 768]),
    auxiliary_head=dict(in_channels=384))
