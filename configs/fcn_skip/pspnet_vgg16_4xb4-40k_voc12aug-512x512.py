# mmseg's PSPHead on the FullyConvVGG backbone (fc7, stride 32), with an auxiliary
# FCNHead on pool4; recipe of fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py.
_base_ = './fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(out_indices=(3, 5)),
    decode_head=dict(
        _delete_=True,
        type='PSPHead',
        in_channels=4096,
        in_index=1,
        channels=512,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
    ),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=512,
        in_index=0,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4),
    ),
)
