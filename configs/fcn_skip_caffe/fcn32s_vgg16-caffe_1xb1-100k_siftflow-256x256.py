# FCN-32s, Caffe-exact, on SIFT Flow with two heads on one VGG16 body (pad 100): the
# 33 semantic classes (decode_head) and the 3 geometric classes (task_heads.geo), the
# loss their sum, as the reference's siftflow-fcn32s: trainval (2,488) -> test (200),
# batch 1, 256x256 images.
#
# Released weights: python tools/test.py
# configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_siftflow-256x256.py
# siftflow-fcn32s-heavy (fetched and converted on first use); not measured here. The
# paper reports FCN-16s only (see the 16s config).
#
# Input as the reference feeds it: BGR (mmseg reads images as BGR, so no swap), 0..255,
# minus SIFT Flow's mean colour (114.578, 115.294, 108.353) in BGR order.
# Reference solver: from ImageNet VGG16 (Caffe), SGD momentum 0.99, fixed lr 1e-10 on the
# summed loss, 100k iterations; on mmseg's averaged loss over N = 256 x 256 = 65,536
# pixels: lr 1e-10 x N = 6.6e-6 and weight decay 5e-4 / N = 7.6e-9 (see
# fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py for the argument).
_base_ = [
    '../_base_/models/fcn8s_vgg16.py',
    '../_base_/datasets/siftflow.py',
    '../_base_/default_runtime.py',
]
# Every SIFT Flow image is 256x256: size=(256, 256) stacks a training batch of one
# without padding (a smaller image would be padded with void labels).
data_preprocessor = dict(
    mean=[114.578, 115.294, 108.353], std=[1.0, 1.0, 1.0], bgr_to_rgb=False, size=(256, 256)
)
# Set once, taken by the backbone and both heads (they must agree).
pad_mode = 'caffe'
loss = dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0, avg_non_ignore=False)
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        pad_mode=pad_mode,
        out_indices=(5,),
        init_cfg=dict(type='Pretrained', checkpoint='vgg16_caffe'),
    ),
    decode_head=dict(
        pad_mode=pad_mode, in_channels=(4096,), in_index=(0,), num_classes=33, loss_decode=loss
    ),
    task_heads=dict(
        geo=dict(
            type='FCNSkipHead',
            pad_mode=pad_mode,
            in_channels=(4096,),
            in_index=(0,),
            num_classes=3,
            loss_decode=loss,
        )
    ),
)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=6.6e-6, momentum=0.99, weight_decay=7.6e-9),
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
