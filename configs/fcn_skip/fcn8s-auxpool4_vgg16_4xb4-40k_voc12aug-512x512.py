# FCN-8s with mmseg's FCNHead as an auxiliary head on pool4 (loss weight 0.4): the
# plugin's head and an mmseg head side by side on the same backbone.
_base_ = './fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'
model = dict(
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=512,
        in_index=1,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4),
    )
)
