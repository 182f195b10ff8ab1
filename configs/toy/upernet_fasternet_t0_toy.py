# UperNet FasterNet-T0 on the bundled toy ADE20K-format set (`make demo-seg`), trained from
# scratch on a 2-core CPU. Inherits the real config and changes only the data, the image
# size, the schedule and the head widths a CPU can afford; the backbone is the real
# FasterNet-T0. ADE20KDataset accepts only ADE's own 150 classes, so the toy classes use
# mmseg's generic BaseSegDataset with ADE's conventions (0 = other, reduce_zero_label).
_base_ = ['../upernet_fasternet_t0.py']

data_root = 'data/toy_ade/'
metainfo = dict(
    classes=('sun', 'tile', 'leaf', 'gem', 'wall', 'ground'),
    palette=[(230, 160, 30), (40, 90, 220), (40, 160, 60), (170, 40, 170), (120, 120, 140),
             (120, 90, 50)])
crop_size = (256, 256)

model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=None),
    decode_head=dict(channels=64, num_classes=6),
    auxiliary_head=dict(channels=32, num_classes=6),
    test_cfg=dict(_delete_=True, mode='whole'))

# mmseg's ADE20K pipelines with the image scale divided by two (512 -> 256).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(1024, 256), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 256), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
dataset = dict(
    type='BaseSegDataset',
    data_root=data_root,
    metainfo=metainfo,
    img_suffix='.jpg',
    seg_map_suffix='.png',
    reduce_zero_label=True)
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        data_prefix=dict(img_path='images/training', seg_map_path='annotations/training'),
        pipeline=train_pipeline,
        **dataset))
val_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(
        _delete_=True,
        data_prefix=dict(img_path='images/validation',
                         seg_map_path='annotations/validation'),
        pipeline=test_pipeline,
        **dataset))
test_dataloader = val_dataloader

# As short as its tests allow: its int8 files must score within 0.5 mIoU of it
# (docs/model_zoo.md#toy-set-demos-2-core-cpu-from-scratch).
max_iters = 200
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=50, end=max_iters, by_epoch=False),
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters))
log_processor = dict(window_size=10)
randomness = dict(seed=0)
