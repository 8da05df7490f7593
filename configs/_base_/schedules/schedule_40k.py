# schedule_20k.py stretched to 40k iterations (validation and checkpoints every 4000).
_base_ = './schedule_20k.py'
param_scheduler = [dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=0, end=40000, by_epoch=False)]
train_cfg = dict(max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
