# FCN-AlexNet (FCN-32s on CaffeNet), Caffe-exact: conv1 padded by 100, 3x3/2 poolings
# rounding up, unpadded 6x6 fc6; the head's 63x63 stride-32 upsampling and its crop of 18
# follow from FullyConvAlexNet's level description (backbone_type). Trained and tested
# as the reference voc-fcn-alexnet: SBD train -> seg11valid, batch 1, full images.
#
# Expected: 48.0 mean IU on seg11valid -- the reference README's number for its released
# weights (python tools/test.py
# configs/fcn_skip_caffe/fcn32s_alexnet-caffe_1xb1-acc20-2000k_seg11valid-fullsize.py
# fcn-alexnet-pascal); not measured here. The paper's Table 1 gives 39.8 on VOC2011 val
# for the CVPR-era FCN-AlexNet.
#
# The released weights expect VOC's Caffe input: BGR, 0..255, minus the mean pixel.
# The reference solver (voc-fcn-alexnet/solver.prototxt): SGD, lr 1e-4 fixed, momentum
# 0.9, weight decay 5e-4, gradients accumulated over 20 images (iter_size 20; Caffe
# divides the sum by 20, as accumulative_counts does), 100k updates = 2M images, scored
# every 4000 updates; the loss is averaged over the valid pixels (normalize: true), which
# is mmseg's CrossEntropyLoss with avg_non_ignore=True, so the learning rate carries over
# unchanged. Score layer: bias learning rate x2, no decay on its bias.
#
# Training from ImageNet needs Caffe's CaffeNet with its fc6/fc7 cast to convolutions
# (the reference's alexnetfc.caffemodel), which the weights table does not hold; without
# init_cfg the backbone starts from random weights.
_base_ = [
    '../_base_/datasets/sbd_seg11valid.py',
    '../_base_/default_runtime.py',
]
# size_divisor=1: training batches of one whole image are stacked without padding.
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[104.00699, 116.66877, 122.67892],
    std=[1.0, 1.0, 1.0],
    bgr_to_rgb=False,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=1,
)
# Set once, taken by both the backbone and the head (they must agree).
pad_mode = 'caffe'
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(type='FullyConvAlexNet', pad_mode=pad_mode, out_indices=(3,)),
    decode_head=dict(
        type='FCNSkipHead',
        in_channels=(4096,),
        in_index=(0,),
        pad_mode=pad_mode,
        backbone_type='FullyConvAlexNet',
        num_classes=21,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0, avg_non_ignore=True
        ),
    ),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)
updates, images_per_update = 100000, 20
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-4, momentum=0.9, weight_decay=5e-4),
    accumulative_counts=images_per_update,
    paramwise_cfg=dict(
        custom_keys={'decode_head.conv_seg.bias': dict(lr_mult=2.0, decay_mult=0.0)}
    ),
)
# No param_scheduler: the learning rate stays fixed. One iteration is one image: 2000k
# iterations (the name) are the reference's 100k updates of 20 images.
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=updates * images_per_update,
    val_interval=4000 * images_per_update,
)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50 * images_per_update, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000 * images_per_update),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
)
