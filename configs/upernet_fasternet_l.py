# UperNet on ADE20K with FasterNet-L: the recipe of upernet_fasternet_s.py (ours; the paper
# has no segmentation results), with the backbone's widths and stochastic depth 0.3.
_base_ = ['./upernet_fasternet_s.py']

model = dict(
    backbone=dict(
        arch='l',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/fasternet_l-epoch.299-val_acc1.83.5060.pth')),
    decode_head=dict(in_channels=[192, 384, 768, 1536]),
    auxiliary_head=dict(in_channels=768))
