# FCN-16s (pool4 + fc7), staged as in the paper: from the trained FCN-32s of
# fcn32s_vgg16_4xb4-40k_voc12aug-512x512.py (load_from; the backbone and score_fr are its weights, score_pool4 starts
# at zero), same data and augmentation as fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py.
#
# Schedule (a choice, not measured on VOC): SGD as fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py at a tenth of its
# learning rate, 1e-4, poly decay over 20k iterations. The paper lowers its fixed rate 100x
# per stage at momentum 0.99. On the toy shapes this rule (a tenth per stage) ended below
# FCN-8s trained at once for the same total iterations, and below the same chain at one
# rate throughout (docs/reproducing.md, "Staged or at once"); for a net of your own,
# train fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py at once. Train fcn32s_vgg16_4xb4-40k_voc12aug-512x512.py first, or
# point load_from at another FCN-32s checkpoint.
_base_ = './fcn16s_vgg16_4xb4-40k_voc12aug-512x512.py'
model = dict(backbone=dict(init_cfg=None))  # all weights come from load_from
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-7, power=0.9, begin=0, end=20000, by_epoch=False)]
train_cfg = dict(max_iters=20000, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000))
load_from = 'work_dirs/fcn32s_vgg16_4xb4-40k_voc12aug-512x512/iter_40000.pth'
