# FCN-32s (fc7 only), Caffe-exact, recipe of ../fcn32s_voc.py.
_base_ = './fcn8s_vgg16_voc12aug.py'
model = dict(
    backbone=dict(out_indices=(5, )),
    decode_head=dict(in_channels=(4096, ), in_index=(0, )))
