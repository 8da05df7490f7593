# FCN-8s (pool3 + pool4 + fc7) of both SIFT Flow heads, Caffe-exact, reference recipe
# of fcn32s_vgg16-caffe_1xb1-100k_siftflow-256x256.py.
#
# Released weights: siftflow-fcn8s-heavy; not measured here.
#
# Staged training: starts from the trained FCN-16s (load_from; both score_pool3 layers
# start at zero), fixed lr 1e-12 on the summed loss (the reference's siftflow-fcn8s
# solver, as its 16s) -> 6.6e-8 on mmseg's averaged loss, 100k iterations.
_base_ = './fcn16s_vgg16-caffe_1xb1-100k_siftflow-256x256.py'
head = dict(in_channels=(256, 512, 4096), in_index=(0, 1, 2))
model = dict(
    backbone=dict(out_indices=(2, 3, 5)),
    decode_head=head,
    task_heads=dict(geo=head),
)
load_from = 'work_dirs/fcn16s_vgg16-caffe_1xb1-100k_siftflow-256x256/iter_100000.pth'
