# FCN-8s (same padding) on PASCAL-Context, 59 classes, with a modern recipe, to compare
# with mmseg's models trained the same way.
#
# Expected: no published number for this recipe. For orientation only: the paper's
# FCN-8s reaches 35.1 mean IU on these 59 classes (37.8 with the later released
# model), trained with the reference Caffe recipe (batch 1, full images, fixed lr).
#
# Recipe: torchvision's ImageNet VGG16 ('vgg16', fetched and converted on first use);
# 480x480 crops with random rescaling 0.5-2.0, flips and photometric distortion; batch
# 16 (4 GPUs x 4 images); SGD, momentum 0.9, weight decay 5e-4, bias lr x2 without
# decay, poly decay from lr 1e-3 over 40k iterations; loss averaged over pixels;
# bfloat16 mixed precision.
# AmpOptimWrapper needs a GPU; on CPU add
# --cfg-options optim_wrapper.type=CPUAmpOptimWrapper (bfloat16 autocast on CPU).
_base_ = [
    '../_base_/models/fcn8s_vgg16.py',
    '../_base_/datasets/pascal_context_59.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py',
]
crop_size = (480, 480)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=59))
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16')
train_dataloader = dict(batch_size=4)
