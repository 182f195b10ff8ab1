# ImageNet-1k with FasterNet-L: the recipe of fasternet_s_in1k.py with this variant's
# values from the paper's App. Tab. 6.
_base_ = ['./fasternet_s_in1k.py']

model = dict(
    backbone=dict(arch='l', drop_path_rate=0.3),
    head=dict(in_channels=1536),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.7), dict(type='CutMix', alpha=1.0)]))
# Batch 2048 (16 GPUs x 128), lr 0.002, gradient clipping at 0.01.
optim_wrapper = dict(optimizer=dict(lr=0.002, weight_decay=0.05), clip_grad=dict(max_norm=0.01))
auto_scale_lr = dict(base_batch_size=2048)
