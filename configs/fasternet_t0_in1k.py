# ImageNet-1k with FasterNet-T0: the recipe of fasternet_s_in1k.py with this variant's
# values from the paper's App. Tab. 6.
_base_ = ['./fasternet_s_in1k.py']

model = dict(
    backbone=dict(arch='t0', drop_path_rate=0.0),
    head=dict(in_channels=320, act_cfg=dict(_delete_=True, type='GELU')),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.05), dict(type='CutMix', alpha=1.0)]))
optim_wrapper = dict(optimizer=dict(weight_decay=0.005))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    # No RandAugment for T0 (App. Tab. 6).
    dict(type='PackInputs'),
]))
