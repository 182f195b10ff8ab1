# ImageNet-1k with FasterNet-T2: the recipe of fasternet_s_in1k.py with this variant's
# values from the paper's App. Tab. 6.
_base_ = ['./fasternet_s_in1k.py']

model = dict(
    backbone=dict(arch='t2', drop_path_rate=0.05),
    head=dict(in_channels=768),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.1), dict(type='CutMix', alpha=1.0)]))
optim_wrapper = dict(optimizer=dict(weight_decay=0.02))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=5, magnitude_std=0.5,
         hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(type='PackInputs'),
]))
