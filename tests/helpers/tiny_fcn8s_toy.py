# configs/fcn8s_toy.py shrunk for subprocess tests: 4..32 channels, 32x32 crops,
# batches of 2 loaded by 2 workers (so worker randomness is exercised); set
# train_dataloader.dataset.data_root and val_dataloader.dataset.data_root.
_base_ = '../../configs/fcn8s_toy.py'
crop_size = (32, 32)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(base_channels=4, fc_channels=16),
    decode_head=dict(in_channels=(16, 32, 16)),
)
train_pipeline = [
    dict(type='ApplySampleSeed'),
    dict(type='CheckSegFiles'),
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegPair', num_classes=5),
    dict(type='RandomResize', scale=(40, 32), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=2, persistent_workers=True, dataset=dict(pipeline=train_pipeline)
)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
max_iters = 8
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=2, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=2, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=4)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=4), visualization=dict(draw=False)
)
randomness = dict(seed=0, deterministic=True)
env_cfg = dict(cudnn_benchmark=False)
