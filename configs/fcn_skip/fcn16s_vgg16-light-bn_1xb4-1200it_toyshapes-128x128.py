# FCN-16s, light and from scratch, on the built-in synthetic shapes:
# fcn8s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py with pool4 + fc7 (strides 16 and
# 32), same schedule.
_base_ = './fcn8s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py'
model = dict(
    backbone=dict(out_indices=(3, 5)), decode_head=dict(in_channels=(128, 128), in_index=(0, 1))
)
