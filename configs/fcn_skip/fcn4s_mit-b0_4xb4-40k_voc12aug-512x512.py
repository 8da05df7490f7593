# FCN-4s on mmseg's MiT-b0 (the SegFormer encoder): its four stages (strides 4, 8, 16,
# 32) fused coarse to fine. MiT embeds patches with 7x7/4 and 3x3/2 convolutions padded
# by half the kernel, so pixel j of a stride-s stage lies on input pixel s * j:
# in_grids='corner' (docs/backbones.md). SegFormer's recipe: AdamW, lr 6e-5, the
# head at 10x, no decay on norms and position embeddings, linear warm-up then poly.
_base_ = [
    '../_base_/models/fcn8s_vgg16.py',
    '../_base_/datasets/pascal_voc12_aug.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py',
]
crop_size = (512, 512)
checkpoint = (
    'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/segformer/'
    'mit_b0_20220624-7e0fe6dd.pth'
)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _delete_=True,
        type='MixVisionTransformer',
        in_channels=3,
        embed_dims=32,
        num_stages=4,
        num_layers=[2, 2, 2, 2],
        num_heads=[1, 2, 5, 8],
        patch_sizes=[7, 3, 3, 3],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3),
        mlp_ratio=4,
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint),
    ),
    decode_head=dict(
        in_channels=(32, 64, 160, 256),
        in_index=(0, 1, 2, 3),
        in_grids='corner',
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
            pos_block=dict(decay_mult=0.0),
            norm=dict(decay_mult=0.0),
            decode_head=dict(lr_mult=10.0),
        )
    ),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=40000, by_epoch=False),
]
