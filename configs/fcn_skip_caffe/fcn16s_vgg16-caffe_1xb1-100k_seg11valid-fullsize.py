# FCN-16s (pool4 + fc7), Caffe-exact, reference recipe of
# fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py.
#
# Expected: 65.0 mean IU on seg11valid -- the paper's number for its released FCN-16s
# weights; not measured here.
#
# Staged training: starts from the trained FCN-32s (load_from; score_pool4 starts at
# zero), fixed lr 1e-12 on the summed loss -> 1e-12 * 250k = 2.5e-7 on mmseg's averaged
# loss (weight decay stays 2e-9, see the 32s config), 100k iterations.
_base_ = './fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py'
model = dict(
    backbone=dict(out_indices=(3, 5), init_cfg=None),
    decode_head=dict(in_channels=(512, 4096), in_index=(0, 1)),
)
optim_wrapper = dict(optimizer=dict(lr=2.5e-7))
load_from = 'work_dirs/fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize/iter_100000.pth'
