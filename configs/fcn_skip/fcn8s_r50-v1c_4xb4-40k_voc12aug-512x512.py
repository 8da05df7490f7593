# FCNSkipHead on mmseg's ResNetV1c-50 without dilation: stages 2, 3, 4 at strides
# 8, 16, 32 play the roles of pool3, pool4 and fc7; recipe of
# fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py with BN.
# ResNet downsamples with centred odd kernels, so pixel j of a stride-s stage lies on
# input pixel s * j: in_grids='corner' (docs/backbones.md; tools/analysis_tools/probe_grids.py).
_base_ = './fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'
model = dict(
    data_preprocessor=dict(bgr_to_rgb=True),
    backbone=dict(
        _delete_=True,
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(1, 2, 3),
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c'),
    ),
    decode_head=dict(in_channels=(512, 1024, 2048), in_index=(0, 1, 2), in_grids='corner'),
)
optim_wrapper = dict(optimizer=dict(lr=0.01))
