# PASCAL-Context, 59 classes (the 59 most frequent; everything else ignored): 4,998
# train and 5,105 val images. Expects data/VOCdevkit/VOC2010 with
# SegmentationClassContext and ImageSets/SegmentationContext/{train,val}.txt made
# by mmseg's tools/dataset_converters/pascal_context.py. Label 0 ("other") becomes
# 255 (ignored) through reduce_zero_label.
dataset_type = 'PascalContextDataset59'
data_root = 'data/VOCdevkit/VOC2010'
img_scale = (520, 520)
crop_size = (480, 480)
train_pipeline = [
    dict(type='ApplySampleSeed'),  # augmentation reproducible across resumes
    dict(type='CheckSegFiles'),  # missing/empty/damaged files: error naming them
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    # After reduce_zero_label (0 -> 255, k -> k - 1) the labels are 0..58 or 255.
    dict(type='CheckSegPair', num_classes=59),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    # Annotations are loaded after the resize: scores are computed on the
    # original label map.
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='SeededInfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
        ann_file='ImageSets/SegmentationContext/train.txt',
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
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
