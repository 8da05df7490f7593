# FCN-8s, Caffe-exact net: conv1_1 padded by 100, unpadded fc6, crops derived from the
# geometry; recipe of ../fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py. Inputs
# follow the Caffe VGG16 convention the reference weights expect: BGR (as images are
# loaded), 0..255, minus the mean pixel, no scaling. 'vgg16_caffe' is Caffe's ImageNet
# VGG16, fetched and converted on first use.
_base_ = '../fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'
data_preprocessor = dict(
    mean=[104.00699, 116.66877, 122.67892], std=[1.0, 1.0, 1.0], bgr_to_rgb=False
)
# Set once, taken by both the backbone and the head (they must agree).
pad_mode = 'caffe'
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(pad_mode=pad_mode, init_cfg=dict(type='Pretrained', checkpoint='vgg16_caffe')),
    decode_head=dict(pad_mode=pad_mode),
)
