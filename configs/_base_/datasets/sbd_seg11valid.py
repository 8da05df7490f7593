# The FCN paper's data: SBD train (8,498 images) for training and "seg11valid" (the
# 736 VOC2011 segmentation val images that are not in SBD train) for validation.
# Full-size images, batch 1, no augmentation, random order; testing on the whole
# image at its own size. Prepare with tools/dataset_converters/sbd.py, which writes
# SegmentationClassSBD/ and the two lists into data/VOCdevkit/VOC2012 (see
# docs/reproducing.md). Scored with the paper's four numbers (FCNMetric).
dataset_type = 'PascalVOCDataset'
data_root = 'data/VOCdevkit/VOC2012'
train_pipeline = [
    dict(type='ApplySampleSeed'),  # augmentation reproducible across resumes
    dict(type='CheckSegFiles'),  # missing/empty/damaged files: error naming them
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegPair', num_classes=21),  # sizes agree, labels 0..20 or 255
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
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassSBD'),
        ann_file='ImageSets/Segmentation/sbd_train.txt',
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/seg11valid.txt',
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='FCNMetric')
test_evaluator = val_evaluator
