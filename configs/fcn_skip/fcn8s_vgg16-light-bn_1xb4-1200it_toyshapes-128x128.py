# FCN-8s, light and from scratch, on the built-in synthetic shapes (the CPU demo and the
# tests). Same net as fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py at a quarter of the width
# (VGG16 with 16..128 channels, fc6/fc7 with 128) and BN after each 3x3 conv so it
# trains from random weights in minutes.
# fcn32s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py,
# fcn16s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py and
# fcn4s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py are the same net and schedule
# with other skips. Make the data first: python tools/make_toy_dataset.py --out
# data/toy_shapes
_base_ = [
    '../_base_/models/fcn8s_vgg16.py',
    '../_base_/datasets/toy_shapes.py',
    '../_base_/default_runtime.py',
]
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        base_channels=16,
        fc_channels=128,
        dropout_ratio=0.1,
        norm_cfg=dict(type='BN'),
        init_cfg=None,
    ),
    decode_head=dict(in_channels=(64, 128, 128), num_classes=5, score_init='normal'),
)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=3e-3, weight_decay=1e-4))
max_iters = 1200
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=50, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
)
randomness = dict(seed=0)
