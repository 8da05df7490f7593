# mmseg's UPerHead on the FullyConvVGG backbone (same padding): pool2..pool5 at strides
# 4, 8, 16, 32 (fc6/fc7 are not computed), with an auxiliary FCNHead on pool4; recipe
# of fcn8s_voc.py. UPerHead resizes its levels with align_corners=False, which suits
# the centre-aligned grids of FullyConvVGG.
_base_ = './fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(out_indices=(1, 2, 3, 4)),
    decode_head=dict(
        _delete_=True,
        type='UPerHead',
        in_channels=[128, 256, 512, 512],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
    ),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=512,
        in_index=2,
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
