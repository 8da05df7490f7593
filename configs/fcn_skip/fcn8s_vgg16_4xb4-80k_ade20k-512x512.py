# FCN-8s (same padding) on ADE20K (150 classes) with a modern recipe, to compare with
# mmseg's models trained the same way.
#
# Expected: no published number for this recipe. For orientation only: the ADE20K
# paper (Zhou et al., CVPR 2017) reports FCN-8s at 29.39 mean IoU on the val set,
# trained with another recipe.
#
# Recipe: torchvision's ImageNet VGG16 ('vgg16', fetched and converted on first use);
# 512x512 crops with random rescaling 0.5-2.0, flips and photometric distortion; batch
# 16 (4 GPUs x 4 images); SGD, momentum 0.9, weight decay 5e-4, bias lr x2 without
# decay, poly decay from lr 1e-3 over 80k iterations; loss averaged over pixels;
# bfloat16 mixed precision.
# AmpOptimWrapper needs a GPU; on CPU add
# --cfg-options optim_wrapper.type=CPUAmpOptimWrapper (bfloat16 autocast on CPU).
_base_ = [
    '../_base_/models/fcn8s_vgg16.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_80k.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=150))
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16')
train_dataloader = dict(batch_size=4)
