# FCN-32s, light and from scratch, on the built-in synthetic shapes:
# fcn8s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py with fc7 alone (stride 32), same
# schedule. The coarsest net of the demo (tools/demo.sh).
_base_ = './fcn8s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py'
model = dict(backbone=dict(out_indices=(5,)), decode_head=dict(in_channels=(128,), in_index=(0,)))
