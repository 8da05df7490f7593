# FCN-8s (pool3 + pool4 + fc7), staged as in the paper: from the trained FCN-16s of
# fcn16s-staged_vgg16_4xb4-20k_voc12aug-512x512.py (load_from; score_pool3 starts at zero), same data and
# augmentation as fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py.
#
# Schedule (a choice, not measured on VOC): a tenth of the FCN-16s stage's learning rate,
# 1e-5, poly decay over 20k iterations (see fcn16s-staged_vgg16_4xb4-20k_voc12aug-512x512.py: on the toy shapes
# the chain ended below FCN-8s trained at once; docs/reproducing.md, "Staged or at once").
_base_ = './fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'
model = dict(backbone=dict(init_cfg=None))  # all weights come from load_from
optim_wrapper = dict(optimizer=dict(lr=1e-5))
param_scheduler = [dict(type='PolyLR', eta_min=1e-8, power=0.9, begin=0, end=20000, by_epoch=False)]
train_cfg = dict(max_iters=20000, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000))
load_from = 'work_dirs/fcn16s-staged_vgg16_4xb4-20k_voc12aug-512x512/iter_20000.pth'
