# FCN-32s, Caffe-exact (conv1_1 padded by 100, unpadded fc6, crops from the geometry),
# trained and tested as in the paper: SBD train -> seg11valid, batch 1, full images.
#
# Expected: 63.6 mean IU on seg11valid -- the paper's number for its released FCN-32s
# weights (python tools/test.py
# configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py
# fcn32s-heavy-pascal); not measured here.
#
# Training starts from Caffe's ImageNet VGG16 ('vgg16_caffe', fetched and converted on
# first use), whose weights expect BGR images, 0..255, minus the mean pixel, unscaled.
# The reference solver: SGD, momentum 0.99, fixed learning rate, 100k iterations, bias
# learning rate x2 and no decay on biases, validation every 4000 iterations. The
# reference sums the loss over the pixels of an image; mmseg's CrossEntropyLoss averages
# it over all N pixels (avg_non_ignore= False: ignored pixels count in N, as every pixel
# does in a sum). SGD on the average at lr * N takes the same steps as SGD on the sum at
# lr when the weight decay is divided by N, so with N ~ 250k (a 500x500 image): lr 1e-10
# -> 2.5e-5 and weight decay 5e-4 -> 2e-9. (Keeping 5e-4 would decay the weights 250,000
# times faster than the reference.)
_base_ = [
    '../_base_/models/fcn8s_vgg16.py',
    '../_base_/datasets/sbd_seg11valid.py',
    '../_base_/default_runtime.py',
]
# size_divisor=1: training batches of one whole image are stacked without padding.
data_preprocessor = dict(
    mean=[104.00699, 116.66877, 122.67892], std=[1.0, 1.0, 1.0], bgr_to_rgb=False, size_divisor=1
)
# Set once, taken by both the backbone and the head (they must agree).
pad_mode = 'caffe'
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        pad_mode=pad_mode,
        out_indices=(5,),
        init_cfg=dict(type='Pretrained', checkpoint='vgg16_caffe'),
    ),
    decode_head=dict(
        pad_mode=pad_mode,
        in_channels=(4096,),
        in_index=(0,),
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0, avg_non_ignore=False
        ),
    ),
)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=2.5e-5, momentum=0.99, weight_decay=2e-9),
    paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.0),
)
# No param_scheduler: the learning rate stays fixed.
train_cfg = dict(type='IterBasedTrainLoop', max_iters=100000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
)
