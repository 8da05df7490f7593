# FCN-16s (pool4 + fc7), Caffe-exact, recipe of
# ../fcn_skip/fcn16s_vgg16_4xb4-40k_voc12aug-512x512.py.
_base_ = './fcn8s_vgg16-caffe_4xb4-40k_voc12aug-512x512.py'
model = dict(
    backbone=dict(out_indices=(3, 5)), decode_head=dict(in_channels=(512, 4096), in_index=(0, 1))
)
