# FCN-8s "at once": pool3 and pool4 scaled by 0.0001 and 0.01 before scoring, so the
# skips start small and the net trains in one stage from VGG16. Recipe of
# fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py.
_base_ = './fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'
model = dict(decode_head=dict(skip_scales=(0.0001, 0.01)))
