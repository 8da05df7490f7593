# FCN-16s (pool4 + fc7) of both SIFT Flow heads, Caffe-exact, reference recipe of
# fcn32s_vgg16-caffe_1xb1-100k_siftflow-256x256.py.
#
# Expected: 39.5 mean IU (semantic, cow/desert/moon left out), with pixel accuracy 85.2,
# mean accuracy 51.7, f.w. IU 76.1 and geometric accuracy 94.3 (geo/aAcc) -- the paper's
# numbers (CVPR Table 5, FCN-16s; the released siftflow-fcn16s-heavy is a later model);
# not measured here
# (python tools/test.py configs/fcn_skip_caffe/fcn16s_vgg16-caffe_1xb1-100k_siftflow-256x256.py
# siftflow-fcn16s-heavy).
#
# Staged training: starts from the trained FCN-32s (load_from; both score_pool4 layers
# start at zero), fixed lr 1e-12 on the summed loss -> 1e-12 x 65,536 = 6.6e-8 on
# mmseg's averaged loss, 100k iterations.
_base_ = './fcn32s_vgg16-caffe_1xb1-100k_siftflow-256x256.py'
head = dict(in_channels=(512, 4096), in_index=(0, 1))
model = dict(
    backbone=dict(out_indices=(3, 5), init_cfg=None),
    decode_head=head,
    task_heads=dict(geo=head),
)
optim_wrapper = dict(optimizer=dict(lr=6.6e-8))
load_from = 'work_dirs/fcn32s_vgg16-caffe_1xb1-100k_siftflow-256x256/iter_100000.pth'
