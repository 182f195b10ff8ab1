# UperNet on ADE20K with FasterNet-T1: the recipe of upernet_fasternet_s.py (ours; the paper
# has no segmentation results), with the backbone's widths and stochastic depth 0.02.
_base_ = ['./upernet_fasternet_s.py']

model = dict(
    backbone=dict(
        arch='t1',
        drop_path_rate=0.02,
        init_cfg=dict(checkpoint='checkpoints/fasternet_t1-epoch.291-val_acc1.76.2180.pth')),
    decode_head=dict(in_channels=[64, 128, 256, 512]),
    auxiliary_head=dict(in_channels=256))
