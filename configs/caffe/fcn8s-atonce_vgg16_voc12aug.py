# FCN-8s at once (pool3 x 0.0001, pool4 x 0.01), Caffe-exact, recipe of ../fcn8s_voc.py.
_base_ = './fcn8s_vgg16_voc12aug.py'
model = dict(decode_head=dict(skip_scales=(0.0001, 0.01)))
