# The custom-dataset template started from the released FCN-8s (PASCAL VOC, 21 classes,
# Caffe) instead of ImageNet VGG16: every layer but the score layers comes from it.
# docs/custom_dataset.md explains when to use which.
#
# Copy it next to your copy of fcn8s_vgg16_custom-dataset.py and point _base_ at that
# copy: the classes, data and pipelines are then those you set there.
#
# load_from names the released weights ('fcn8s-heavy-pascal', fetched and converted on
# first use). Their 21-class score layers do not fit another class count: tools/train.py
# starts those layers afresh (at zero, the reference score_init) and logs each one it
# re-initialises with the class counts, e.g. "21 -> 3 classes"; all other weights must
# fit and are loaded.
#
# The released net was trained on Caffe's input (BGR, 0..255 minus the mean pixel,
# unscaled) with the 100-pixel pad of the reference (pad mode 'caffe'), so both are
# set here to what its weights expect. The solver is the reference one of the stage
# that also starts a score layer from zero on these inputs, FCN-32s (SGD, momentum 0.99,
# lr 1e-10 on the summed loss -> 2.5e-5 on mmseg's averaged loss, weight decay 2e-9;
# configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py derives the conversion), with the template's
# poly decay.
_base_ = './fcn8s_vgg16_custom-dataset.py'
data_preprocessor = dict(
    mean=[104.00699, 116.66877, 122.67892], std=[1.0, 1.0, 1.0], bgr_to_rgb=False
)
pad_mode = 'caffe'  # backbone and head must agree
model = dict(
    data_preprocessor=data_preprocessor,
    # No ImageNet initialisation: load_from replaces the backbone's weights anyway.
    backbone=dict(pad_mode=pad_mode, init_cfg=None),
    decode_head=dict(pad_mode=pad_mode),
)
optim_wrapper = dict(optimizer=dict(lr=2.5e-5, momentum=0.99, weight_decay=2e-9))
load_from = 'fcn8s-heavy-pascal'
