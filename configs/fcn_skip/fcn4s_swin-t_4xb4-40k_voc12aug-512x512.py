# FCN-4s on mmseg's Swin-T: its four stages (strides 4, 8, 16, 32) fused coarse to
# fine. Swin embeds non-overlapping 4x4 patches and merges 2x2 neighbourhoods, so pixel
# j of a stride-s stage covers input pixels s * j .. s * j + s - 1, centred on
# s * j + (s - 1) / 2: in_grids='centre' (docs/backbones.md). The Swin recipe: AdamW,
# lr 6e-5, no decay on norms and position tables, linear warm-up then poly.
_base_ = [
    '../_base_/models/fcn8s_vgg16.py',
    '../_base_/datasets/pascal_voc12_aug.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py',
]
crop_size = (512, 512)
checkpoint = (
    'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/swin/'
    'swin_tiny_patch4_window7_224_20220317-1cdeb081.pth'
)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _delete_=True,
        type='SwinTransformer',
        pretrain_img_size=224,
        embed_dims=96,
        patch_size=4,
        window_size=7,
        mlp_ratio=4,
        depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        strides=(4, 2, 2, 2),
        out_indices=(0, 1, 2, 3),
        qkv_bias=True,
        qk_scale=None,
        patch_norm=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.3,
        use_abs_pos_embed=False,
        act_cfg=dict(type='GELU'),
        norm_cfg=dict(type='LN', requires_grad=True),
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint),
    ),
    decode_head=dict(
        in_channels=(96, 192, 384, 768),
        in_index=(0, 1, 2, 3),
        in_grids='centre',
        score_init='normal',
    ),
)
train_dataloader = dict(batch_size=4)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys=dict(
            absolute_pos_embed=dict(decay_mult=0.0),
            relative_position_bias_table=dict(decay_mult=0.0),
            norm=dict(decay_mult=0.0),
        )
    ),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=40000, by_epoch=False),
]
