# FCN-4s on mmseg's ResNetV1c-50 without dilation: all four stages (strides 4, 8, 16,
# 32) fused coarse to fine; otherwise fcn8s_r50-v1c_4xb4-40k_voc12aug-512x512.py (its recipe, corner grids).
_base_ = './fcn8s_r50-v1c_4xb4-40k_voc12aug-512x512.py'
model = dict(
    backbone=dict(out_indices=(0, 1, 2, 3)),
    decode_head=dict(in_channels=(256, 512, 1024, 2048), in_index=(0, 1, 2, 3)),
)
