# FCN-8s (pool3 + pool4 + fc7), Caffe-exact, reference recipe of
# fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py.
#
# Expected: 65.5 mean IU on seg11valid (pixel accuracy 91.2, mean accuracy 77.6,
# frequency weighted IU 84.5) -- the paper's numbers for its released FCN-8s
# weights; not measured here.
#
# Staged training: starts from the trained FCN-16s (load_from; score_pool3 starts at
# zero), fixed lr 1e-14 on the summed loss -> 1e-14 * 250k = 2.5e-9 on mmseg's
# averaged loss (weight decay stays 2e-9, see the 32s config), 100k iterations.
_base_ = './fcn16s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py'
model = dict(
    backbone=dict(out_indices=(2, 3, 5)),
    decode_head=dict(in_channels=(256, 512, 4096), in_index=(0, 1, 2)),
)
optim_wrapper = dict(optimizer=dict(lr=2.5e-9))
load_from = 'work_dirs/fcn16s_vgg16-caffe_1xb1-100k_seg11valid-fullsize/iter_100000.pth'
