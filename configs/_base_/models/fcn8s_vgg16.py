# FCN-8s on a same-padded VGG16 (pool3 + pool4 + fc7), for ImageNet VGG16 weights in
# torchvision's convention: RGB, 0..255 normalised by the ImageNet mean/std. 'vgg16' names
# torchvision's file (mmseg_fcn_skip/weights/table.py): the first run downloads it into
# the torch hub cache, checks its SHA-256 and converts it.
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
)
# Set once, taken by both the backbone and the head (they must agree).
pad_mode = 'same'
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='FullyConvVGG',
        depth=16,
        pad_mode=pad_mode,
        out_indices=(2, 3, 5),
        init_cfg=dict(type='Pretrained', checkpoint='vgg16'),
    ),
    decode_head=dict(
        type='FCNSkipHead',
        in_channels=(256, 512, 4096),
        in_index=(0, 1, 2),
        pad_mode=pad_mode,
        num_classes=21,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
    ),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)
