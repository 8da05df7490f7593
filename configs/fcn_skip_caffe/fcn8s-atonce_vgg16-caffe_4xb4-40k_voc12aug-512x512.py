# FCN-8s at once (pool3 x 0.0001, pool4 x 0.01), Caffe-exact, recipe of
# ../fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py.
_base_ = './fcn8s_vgg16-caffe_4xb4-40k_voc12aug-512x512.py'
model = dict(decode_head=dict(skip_scales=(0.0001, 0.01)))
