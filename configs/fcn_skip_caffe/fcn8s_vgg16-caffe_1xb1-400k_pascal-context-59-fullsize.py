# FCN-8s (pool3 + pool4 + fc7), Caffe-exact, on PASCAL-Context (59 classes); the
# recipe of fcn32s_vgg16-caffe_1xb1-400k_pascal-context-59-fullsize.py.
#
# Expected: 35.1 mean IU on the 59 classes (pixel accuracy 65.9, mean accuracy 46.5,
# frequency weighted IU 51.0) -- the paper's numbers (CVPR, Table 6); the released
# pascalcontext-fcn8s-heavy is a later model, not measured here.
#
# Staged training as the reference's pascalcontext-fcn8s: from the trained FCN-16s
# (load_from; score_pool3 starts at zero), fixed lr 1e-14 on the summed loss -> 2.5e-9
# on mmseg's averaged loss, 400k iterations.
_base_ = './fcn16s_vgg16-caffe_1xb1-400k_pascal-context-59-fullsize.py'
model = dict(
    backbone=dict(out_indices=(2, 3, 5)),
    decode_head=dict(in_channels=(256, 512, 4096), in_index=(0, 1, 2)),
)
optim_wrapper = dict(optimizer=dict(lr=2.5e-9))
load_from = 'work_dirs/fcn16s_vgg16-caffe_1xb1-400k_pascal-context-59-fullsize/iter_400000.pth'
