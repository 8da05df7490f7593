# FCN-32s (fc7 only), Caffe-exact, recipe of
# ../fcn_skip/fcn32s_vgg16_4xb4-40k_voc12aug-512x512.py.
_base_ = './fcn8s_vgg16-caffe_4xb4-40k_voc12aug-512x512.py'
model = dict(backbone=dict(out_indices=(5,)), decode_head=dict(in_channels=(4096,), in_index=(0,)))
