# ImageNet-1k with FasterNet-M: the recipe of fasternet_s_in1k.py with this variant's
# values from the paper's App. Tab. 6.
_base_ = ['./fasternet_s_in1k.py']

model = dict(
    backbone=dict(arch='m', drop_path_rate=0.2),
    head=dict(in_channels=1152),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.5), dict(type='CutMix', alpha=1.0)]))
# Batch 2048 (16 GPUs x 128), lr 0.002, gradient clipping at 1.0.
optim_wrapper = dict(optimizer=dict(lr=0.002, weight_decay=0.05), clip_grad=dict(max_norm=1.0))
auto_scale_lr = dict(base_batch_size=2048)
