# FCN-8s (same padding) on PASCAL VOC 2012 + SBD aug, from ImageNet VGG16.
#
# Recipe choices: torchvision's ImageNet VGG16 as initialisation ('vgg16', fetched and
# converted on first use); 512x512 crops with random rescaling 0.5-2.0, flips and
# photometric distortion; batch 16 (4 GPUs x 4 images); SGD, momentum 0.9, weight decay
# 5e-4, poly decay from lr 1e-3 over 40k iterations (VGG has no normalisation layers, so
# mmseg's usual 1e-2 for BN ResNets is too high); loss averaged over pixels; score
# layers start at zero and the upsampling stays a fixed bilinear kernel, as in the
# reference; bf16 is one flag away (tools/train.py --amp).
_base_ = [
    '../_base_/models/fcn8s_vgg16.py',
    '../_base_/datasets/pascal_voc12_aug.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
train_dataloader = dict(batch_size=4)
