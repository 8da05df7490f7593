# SGD with a poly learning-rate decay over 20k iterations, for VGG without normalisation
# layers: lr 1e-3 (mmseg's 1e-2 for BN ResNets is too high here), biases at 2x lr
# without weight decay.
optimizer = dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
    clip_grad=None,
    paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.0),
)
param_scheduler = [dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=0, end=20000, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=20000, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
)
