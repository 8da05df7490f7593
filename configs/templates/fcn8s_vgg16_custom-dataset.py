# FCN-8s (same padding) on a dataset of your own, in mmseg's folder layout: a template.
# docs/custom_dataset.md goes through it step by step.
#
# Copy it with `fcn-config copy templates/fcn8s_vgg16_custom-dataset.py my_config.py`
# (any folder; the copy's bases become mmseg_fcn_skip:: names), or in a checkout into a
# folder of its own under configs/ (e.g. configs/my_dataset/, so that the '../_base_/'
# paths below still resolve), then edit the block marked EDIT.
# Everything else follows from that block. Expects, under data_root:
#
#   img_dir/train/<name><img_suffix>    ann_dir/train/<name><seg_map_suffix>
#   img_dir/val/<name><img_suffix>      ann_dir/val/<name><seg_map_suffix>
#
# an image and its label map sharing <name>; a label map is a single-channel 8-bit PNG
# (mode 'L' or 'P') of the image's size holding one class index per pixel, 255 where
# the pixel is not labelled (ignored by the loss and the metrics).
#
# Recipe as configs/fcn8s_voc.py: torchvision's ImageNet VGG16 ('vgg16', fetched and
# converted on first use); 512x512 crops with random rescaling 0.5-2.0, flips and
# photometric distortion; SGD, momentum 0.9, weight decay 5e-4, bias lr x2 without
# decay, poly decay from lr 1e-3 over 20k iterations; score layers start at zero.
# To start from the released FCN-8s instead, see fcn8s_vgg16_custom-dataset_from-fcn8s.py.
_base_ = [
    '../_base_/models/fcn8s_vgg16.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_20k.py',
]

# ---- EDIT: your dataset ---------------------------------------------------------------
data_root = 'data/my_dataset'
# Class names in label order: a pixel labelled k belongs to classes[k].
classes = ('background', 'road', 'building')
# One RGB colour per class, for drawings (tools/test.py --show-dir, tools/infer.py).
palette = [[0, 0, 0], [128, 64, 128], [70, 70, 70]]
img_suffix = '.jpg'
seg_map_suffix = '.png'
# True if label 0 means "unlabelled" and the classes are 1..K: on loading, 0 becomes 255
# (ignored) and k becomes k - 1; `classes` then lists the K real classes only.
reduce_zero_label = False
# Loss weight of each class, in the order of `classes` (e.g. larger for rare classes),
# or None for equal weights. Its length must be the number of classes.
class_weight = None
# ---- end of EDIT ----------------------------------------------------------------------

num_classes = len(classes)
ignore_index = 255  # label of unlabelled pixels; also the padding value of label maps
metainfo = dict(classes=classes, palette=palette)
dataset_type = 'BaseSegDataset'
crop_size = (512, 512)  # training crops; the data preprocessor pads batches to it

data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    # The backbone starts from torchvision's ImageNet VGG16 (init_cfg of the base model);
    # --cfg-options model.backbone.init_cfg=None starts it from random weights.
    decode_head=dict(
        num_classes=num_classes,
        ignore_index=ignore_index,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0, class_weight=class_weight
        ),
    ),
)
# An auxiliary head (as in configs/fcn_skip/fcn8s-auxpool4_vgg16_4xb4-40k_voc12aug-512x512.py) needs the same num_classes
# and class_weight in its own dict: model.auxiliary_head.num_classes and
# model.auxiliary_head.loss_decode.class_weight.

train_pipeline = [
    dict(type='ApplySampleSeed'),  # augmentation reproducible across resumes
    dict(type='CheckSegFiles'),  # missing/empty/damaged files: error naming them
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # reduce_zero_label comes from the dataset
    # sizes agree, labels in 0..num_classes-1 or 255 (else an error naming the file)
    dict(type='CheckSegPair', num_classes=num_classes, ignore_index=ignore_index),
    # (2048, 512): the short side resized to 512 (the long side at most 2048), then
    # rescaled by 0.5-2.0; set it to about the size of your images.
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=crop_size),  # images 0, labels 255 (ignored)
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    # Annotations are loaded after the resize: metrics are computed on the original
    # label map (CheckSegPair, which compares it with the image, would see the resized
    # image here; the training pipeline checks the label values).
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
dataset_common = dict(
    type=dataset_type,
    data_root=data_root,
    metainfo=metainfo,
    img_suffix=img_suffix,
    seg_map_suffix=seg_map_suffix,
    reduce_zero_label=reduce_zero_label,
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
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
# mIoU with a table of IoU and accuracy per class, named by `classes`.
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
