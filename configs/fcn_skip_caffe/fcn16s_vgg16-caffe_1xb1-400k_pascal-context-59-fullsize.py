# FCN-16s (pool4 + fc7), Caffe-exact, on PASCAL-Context (59 classes); the recipe of
# fcn32s_vgg16-caffe_1xb1-400k_pascal-context-59-fullsize.py.
#
# Expected: 34.8 mean IU on the 59 classes -- the paper's number (CVPR, Table 6); the
# released pascalcontext-fcn16s-heavy is a later model, not measured here.
#
# Staged training as the reference's pascalcontext-fcn16s: from the trained FCN-32s
# (load_from; score_pool4 starts at zero), fixed lr 1e-12 on the summed loss -> 2.5e-7
# on mmseg's averaged loss, 400k iterations.
_base_ = './fcn32s_vgg16-caffe_1xb1-400k_pascal-context-59-fullsize.py'
model = dict(
    backbone=dict(out_indices=(3, 5), init_cfg=None),
    decode_head=dict(in_channels=(512, 4096), in_index=(0, 1)),
)
optim_wrapper = dict(optimizer=dict(lr=2.5e-7))
load_from = 'work_dirs/fcn32s_vgg16-caffe_1xb1-400k_pascal-context-59-fullsize/iter_400000.pth'
