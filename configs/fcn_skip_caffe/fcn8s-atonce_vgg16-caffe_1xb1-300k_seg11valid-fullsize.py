# FCN-8s at once, Caffe-exact: pool3 and pool4 are multiplied by 0.0001 and 0.01
# (fixed) before their score layers, so that the net trains in one stage. Reference
# recipe of fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py.
#
# Expected: 65.4 mean IU on seg11valid -- the paper's number for its released
# at-once FCN-8s weights; not measured here.
#
# Trained in one stage from ImageNet VGG16 like FCN-32s (score layers start at
# zero): fixed lr 1e-10 on the summed loss -> 2.5e-5 on mmseg's averaged loss
# (weight decay 2e-9, see the 32s config), 300k iterations.
_base_ = './fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py'
model = dict(
    backbone=dict(out_indices=(2, 3, 5)),
    decode_head=dict(in_channels=(256, 512, 4096), in_index=(0, 1, 2), skip_scales=(0.0001, 0.01)),
)
train_cfg = dict(max_iters=300000)
