# Two tasks on one VGG16 body, on a dataset of your own whose images are labelled twice
# (e.g. semantic classes and sky/horizontal/vertical): FCN-8s for the first task, mmseg's
# FCNHead on fc7 for the second, trained together on the sum of both losses
# (MultiTaskEncoderDecoder). docs/modules.md ("Several tasks, several modalities")
# goes through it.
#
# Copy it with `fcn-config copy templates/fcn8s_vgg16_custom-multi-task-dataset.py
# my_config.py` (any folder), or in a checkout into a folder of its own under configs/,
# then edit the block marked EDIT. Expects, under data_root:
#
#   img_dir/train/<name><img_suffix>   ann_dir/train/<name><seg_map_suffix>
#   img_dir/val/<name><img_suffix>     ann_dir/val/<name><seg_map_suffix>
#   <task>_ann_dir/train/<name><seg_map_suffix>
#   <task>_ann_dir/val/<name><seg_map_suffix>
#
# an image and its two label maps sharing <name> (subfolders allowed, the same in every
# folder); a label map is a single-channel 8-bit PNG of the image's size holding one
# class index per pixel (0..K-1 of its task's classes), 255 where it is not labelled.
# A sample missing one of its files is an error naming it when the dataset is built.
#
# Logged and printed: losses decode.loss_ce and <task>.loss_ce; metrics mIoU, aAcc, ...
# of the first task and <task>/mIoU, <task>/aAcc, ... of the second, each with its
# table of classes (tools/test.py); tools/infer.py writes DIR/pred/<name>.png and
# DIR/pred_<task>/<name>.png.
#
# Recipe as fcn8s_vgg16_custom-dataset.py: torchvision's ImageNet VGG16 ('vgg16',
# fetched and converted on first use); 512x512 crops with random rescaling 0.5-2.0, flips
# and photometric distortion; SGD, momentum 0.9, weight decay 5e-4, bias lr x2 without
# decay, poly decay from lr 1e-3 over 20k iterations.
_base_ = [
    '../_base_/models/fcn8s_vgg16.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_20k.py',
]

# ---- EDIT: your dataset ---------------------------------------------------------------
data_root = 'data/my_dataset'
# The first task's class names in label order, and one RGB colour per class.
classes = ('background', 'road', 'building')
palette = [[0, 0, 0], [128, 64, 128], [70, 70, 70]]
# The second task: its name (a Python identifier other than decode, sem and aux*; it
# names the folder <task>_ann_dir, the fields gt_<task>_seg, pred_<task>_seg, the loss
# <task>.loss_ce and the metrics <task>/...), its class names in label order and colours.
task = 'geo'
task_classes = ('sky', 'horizontal', 'vertical')
task_palette = [[70, 130, 180], [140, 100, 40], [128, 128, 128]]
img_suffix = '.jpg'
seg_map_suffix = '.png'
# ---- end of EDIT ----------------------------------------------------------------------

ignore_index = 255  # label of unlabelled pixels (both tasks); also the labels' padding
metainfo = dict(
    classes=classes,
    palette=palette,
    task_classes={task: task_classes},
    task_palettes={task: task_palette},
)
dataset_type = 'MultiTaskSegDataset'
crop_size = (512, 512)  # training crops; the data preprocessor pads batches to it

data_preprocessor = dict(size=crop_size)
loss = dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=data_preprocessor,
    # backbone: the base's FullyConvVGG (pool3, pool4, fc7 = outputs 0, 1, 2), from
    # torchvision's ImageNet VGG16; --cfg-options model.backbone.init_cfg=None starts
    # it from random weights.
    decode_head=dict(num_classes=len(classes), ignore_index=ignore_index, loss_decode=loss),
    # Any mmseg decode head; its loss is added to the first task's. An FCN-8s head for
    # the second task too (as the SIFT Flow configs) is
    # dict(type='FCNSkipHead', in_channels=(256, 512, 4096), in_index=(0, 1, 2),
    #      pad_mode=pad_mode, num_classes=len(task_classes), loss_decode=loss).
    task_heads={
        task: dict(
            type='FCNHead',
            in_channels=4096,
            in_index=2,  # fc7, stride 32
            channels=512,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            num_classes=len(task_classes),
            ignore_index=ignore_index,
            align_corners=False,
            loss_decode=loss,
        )
    },
)

# Load the second task's labels after mmseg's (LoadTaskAnnotations) and pack both
# (PackMultiTaskInputs). mmseg's geometric transforms (RandomResize, Resize, RandomCrop,
# RandomFlip, RandomRotate, ...) move every task's labels with the image; the
# pipeline's Pad (mmcv's) would pad the first task's only, so the data preprocessor
# pads (size=crop_size) and the model pads the task labels alike.
train_pipeline = [
    dict(type='ApplySampleSeed'),  # augmentation reproducible across resumes
    dict(type='CheckSegFiles'),  # damaged image or first-task label file: error naming it
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LoadTaskAnnotations'),  # <task>_ann_dir/.../<name>.png -> gt_<task>_seg
    # first task: sizes agree, labels in 0..len(classes)-1 or 255
    dict(type='CheckSegPair', num_classes=len(classes), ignore_index=ignore_index),
    # (2048, 512): the short side resized to 512 (the long side at most 2048), then
    # rescaled by 0.5-2.0; set it to about the size of your images.
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    # Labels loaded after the resize: both tasks are scored on the original label maps.
    dict(type='LoadAnnotations'),
    dict(type='LoadTaskAnnotations'),
    dict(type='PackMultiTaskInputs'),
]
dataset_common = dict(
    type=dataset_type,
    data_root=data_root,
    metainfo=metainfo,
    img_suffix=img_suffix,
    seg_map_suffix=seg_map_suffix,
    ignore_index=ignore_index,
)
train_dataloader = dict(
    batch_size=4,  # per GPU
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='SeededInfiniteSampler', shuffle=True),
    dataset=dict(
        **dataset_common,
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        task_seg_map_prefixes={task: f'{task}_ann_dir/train'},
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset_common,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        task_seg_map_prefixes={task: f'{task}_ann_dir/val'},
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
# mIoU of each task, with a table of IoU and accuracy per class named by its classes;
# the second task's scores are logged as <task>/mIoU, <task>/aAcc, ...
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='TaskMetric', task=task, metric=dict(type='IoUMetric', iou_metrics=['mIoU'])),
]
test_evaluator = val_evaluator
