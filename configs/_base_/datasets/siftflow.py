# SIFT Flow as the FCN reference trains and tests on it: trainval (2,488 images) for
# training, test (200) for testing, 256x256 images, batch 1, no augmentation, random
# order. Two tasks per image: the 33 semantic classes (the first task, gt_sem_seg) and
# the 3 geometric classes sky/horizontal/vertical (task 'geo', gt_geo_seg, loaded by
# LoadTaskAnnotations and packed by PackMultiTaskInputs), for a MultiTaskEncoderDecoder
# with task_heads=dict(geo=...). Prepare data/siftflow with
# tools/dataset_converters/siftflow.py from SiftFlowDataset.zip and the reference's
# split lists (see docs/datasets/siftflow.md).
#
# Scores: the paper's four for the semantic task, leaving cow, desert and moon (absent
# from the test set) out of the means as the paper does; the same four for the
# geometric task, logged as geo/aAcc (the paper's "geometric accuracy"), geo/mIoU, ...
dataset_type = 'SiftFlowDataset'
data_root = 'data/siftflow'
train_pipeline = [
    dict(type='ApplySampleSeed'),  # augmentation reproducible across resumes
    dict(type='CheckSegFiles'),  # missing/empty/damaged files: error naming them
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LoadTaskAnnotations'),  # geo_annotations/<name>.png -> gt_geo_seg
    dict(type='CheckSegPair', num_classes=33),  # sizes agree, labels 0..32 or 255
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LoadTaskAnnotations'),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SeededInfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images', seg_map_path='annotations'),
        task_seg_map_prefixes=dict(geo='geo_annotations'),
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
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images', seg_map_path='annotations'),
        task_seg_map_prefixes=dict(geo='geo_annotations'),
        ann_file='test.txt',
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='FCNMetric', exclude_classes=('cow', 'desert', 'moon')),
    dict(type='TaskMetric', task='geo', metric=dict(type='FCNMetric')),
]
test_evaluator = val_evaluator
