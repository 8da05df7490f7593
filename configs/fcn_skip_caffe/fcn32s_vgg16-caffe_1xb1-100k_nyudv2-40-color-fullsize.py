# FCN-32s, Caffe-exact, on NYUDv2 (40 classes), colour images, trained and tested as the
# reference's nyud-fcn32s-color: trainval (795) -> test (654), batch 1, full images.
#
# Expected: 29.2 mean IU -- the paper's number (CVPR, Table 4, FCN-32s RGB) for its
# CVPR-era model; the released nyud-fcn32s-color-heavy is a later model, not measured
# here (python tools/test.py
# configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-fullsize.py
# nyud-fcn32s-color-heavy).
#
# Input as the reference feeds it: BGR (mmseg reads images as BGR, so no swap), 0..255,
# minus NYUDv2's mean colour (116.190, 97.203, 92.318) in BGR order.
# Reference solver: from ImageNet VGG16 (Caffe), SGD momentum 0.99, fixed lr 1e-10 on the
# summed loss, 50 x 2000 = 100k iterations; lr and weight decay on mmseg's averaged loss
# as in the VOC config (lr x ~250k pixels: NYUDv2's images are 425x560 = 238k pixels).
_base_ = './fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py'
# NYUDv2, 40 classes (Gupta et al., CVPR 2013), as the FCN reference trains and tests on
# it: trainval (795 images = train 381 + val 414) for training, test (654) for testing;
# full-size images, batch 1, no augmentation, random order. Prepare data/nyudv2 with
# tools/dataset_converters/nyud.py from the reference's layout (see docs/datasets/nyud.md):
# images/ (colour), hha/ (HHA), annotations/ (0..39, 255 void) and the split lists.
# These settings read the colour images; the HHA configs set img_path='hha'.
dataset_type = 'NYUDv2Dataset'
data_root = 'data/nyudv2'
train_pipeline = [
    dict(type='ApplySampleSeed'),  # augmentation reproducible across resumes
    dict(type='CheckSegFiles'),  # missing/empty/damaged files: error naming them
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegPair', num_classes=40),  # sizes agree, labels 0..39 or 255
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SeededInfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images', seg_map_path='annotations'),
        ann_file='trainval.txt',
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images', seg_map_path='annotations'),
        ann_file='test.txt',
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='FCNMetric')
test_evaluator = val_evaluator
data_preprocessor = dict(mean=[116.190, 97.203, 92.318], std=[1.0, 1.0, 1.0], bgr_to_rgb=False)
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=40))
train_cfg = dict(val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000))
