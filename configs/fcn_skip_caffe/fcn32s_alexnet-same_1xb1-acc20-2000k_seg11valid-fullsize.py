# FCN-AlexNet with same padding: the fast baseline of
# ./fcn32s_alexnet-caffe_1xb1-acc20-2000k_seg11valid-fullsize.py (same data, recipe and
# weight shapes). conv1 is padded by 5 instead of 100, pool1/pool2 by 1 and fc6 by 3, so
# every level has about H / stride pixels on the corner grid (pixel j of a stride-s level
# on input pixel s * j; FullyConvAlexNet's docstring): conv1..conv5 run on maps of about
# H / s instead of (H + 189) / s pixels. The released weights load into it
# (tools/test.py THIS_CONFIG fcn-alexnet-pascal) but were trained with the other padding.
_base_ = './fcn32s_alexnet-caffe_1xb1-acc20-2000k_seg11valid-fullsize.py'
# Set once, taken by both the backbone and the head (they must agree).
pad_mode = 'same'
model = dict(
    backbone=dict(pad_mode=pad_mode),
    decode_head=dict(pad_mode=pad_mode, in_grids='corner'),
)
