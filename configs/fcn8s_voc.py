# Entry point: FCN-8s (same padding) on PASCAL VOC 2012 + SBD aug, from ImageNet VGG16.
# The config itself, with its recipe: fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py.
_base_ = './fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'
