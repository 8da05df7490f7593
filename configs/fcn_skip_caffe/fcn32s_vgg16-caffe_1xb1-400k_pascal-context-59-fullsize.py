# FCN-32s, Caffe-exact, on PASCAL-Context (59 classes), trained and tested as the
# reference's pascalcontext-fcn32s: VOC2010 train -> val, batch 1, full images.
#
# Expected: 31.8 mean IU on the 59 classes -- the paper's number (CVPR, Table 6) for
# its CVPR-era FCN-32s; the released pascalcontext-fcn32s-heavy is a later model, not
# measured here (python tools/test.py
# configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-400k_pascal-context-59-fullsize.py
# pascalcontext-fcn32s-heavy).
#
# The released net scores 60 outputs: background (every pixel outside the 59 classes,
# trained as a class) and the 59 classes. Converted for this config, its channels are
# moved by class name into mmseg's PascalContextDataset59 order and the background
# channel is dropped: the net then picks the best of the 59 classes everywhere, and
# mmseg ignores the background pixels when scoring (docs/datasets/pascal_context.md).
#
# Reference solver: from ImageNet VGG16 (Caffe), BGR input minus the mean pixel, SGD
# momentum 0.99, fixed lr 1e-10 on the summed loss, 50 x 8000 = 400k iterations. The
# lr and weight decay on mmseg's averaged loss are those of the VOC config (lr x ~250k
# pixels, see fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py; VOC2010 images are
# of the same sizes).
_base_ = './fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py'
# PASCAL-Context, 59 classes, as the FCN reference trains and tests on it: VOC2010 train
# (4,998 images) for training, VOC2010 val (5,105) for testing; full-size images, batch
# 1, no augmentation, random order; testing on the whole image at its own size.
# Prepare data/VOCdevkit/VOC2010/SegmentationClassContext and
# ImageSets/SegmentationContext/{train,val}.txt with
# tools/dataset_converters/pascal_context.py from the release's .mat label maps (or
# mmseg's converter from the Detail API json); see docs/datasets/pascal_context.md.
# The label maps hold 0 for every pixel outside the 59 classes and 1..59 for the
# classes in mmseg's (alphabetical) order; reduce_zero_label makes 0 ignored (255) and
# the classes 0..58. Scored with the paper's four numbers (FCNMetric).
dataset_type = 'PascalContextDataset59'
data_root = 'data/VOCdevkit/VOC2010'
train_pipeline = [
    dict(type='ApplySampleSeed'),  # augmentation reproducible across resumes
    dict(type='CheckSegFiles'),  # missing/empty/damaged files: error naming them
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='CheckSegPair', num_classes=59),  # sizes agree, labels 0..58 or 255
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
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
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
        ann_file='ImageSets/SegmentationContext/train.txt',
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
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
        ann_file='ImageSets/SegmentationContext/val.txt',
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='FCNMetric')
test_evaluator = val_evaluator
model = dict(decode_head=dict(num_classes=59))
train_cfg = dict(max_iters=400000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
