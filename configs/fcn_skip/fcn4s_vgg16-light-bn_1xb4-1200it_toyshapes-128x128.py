# FCN-4s, beyond the paper: fcn8s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py with a
# fourth level, pool2 (stride 4), fused after pool3. Light and from scratch on the
# built-in synthetic shapes, same schedule.
_base_ = './fcn8s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py'
model = dict(
    backbone=dict(out_indices=(1, 2, 3, 5)),
    decode_head=dict(in_channels=(32, 64, 128, 128), in_index=(0, 1, 2, 3)),
)
