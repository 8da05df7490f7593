# FCN-8s (same padding) on Cityscapes (19 classes, fine annotations) with a modern
# recipe, to compare with mmseg's models trained the same way.
#
# Expected: no published number for this recipe. For orientation only: the Cityscapes
# benchmark paper (Cordts et al., CVPR 2016) lists FCN-8s at 65.3 class IoU on the test
# set, trained with another recipe.
#
# Recipe: torchvision's ImageNet VGG16 ('vgg16', fetched and converted on first use);
# 512x1024 crops with random rescaling 0.5-2.0, flips and photometric distortion;
# batch 8 (4 GPUs x 2 images); SGD, momentum 0.9, weight decay 5e-4, bias lr x2 without
# decay, poly decay from lr 1e-3 over 80k iterations; loss averaged over pixels;
# bfloat16 mixed precision; whole-image testing at 1024x2048.
# AmpOptimWrapper needs a GPU; on CPU add
# --cfg-options optim_wrapper.type=CPUAmpOptimWrapper (bfloat16 autocast on CPU).
_base_ = [
    '../_base_/models/fcn8s_vgg16.py',
    '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_80k.py',
]
crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=19))
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16')
train_dataloader = dict(batch_size=2)
