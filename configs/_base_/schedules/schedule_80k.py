# schedule_20k.py stretched to 80k iterations (validation and checkpoints every 8000).
_base_ = './schedule_20k.py'
param_scheduler = [dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=0, end=80000, by_epoch=False)]
train_cfg = dict(max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
