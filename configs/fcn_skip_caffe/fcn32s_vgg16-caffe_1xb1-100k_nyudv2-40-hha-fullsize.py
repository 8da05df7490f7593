# FCN-32s, Caffe-exact, on NYUDv2 (40 classes), HHA images (horizontal disparity, height
# above ground, angle with gravity; Gupta et al., ECCV 2014), as the reference's
# nyud-fcn32s-hha: trainval (795) -> test (654), batch 1, full images.
#
# Expected: 24.2 mean IU -- the paper's number (CVPR, Table 4, FCN-32s HHA) for its
# CVPR-era model; the released nyud-fcn32s-hha-heavy is a later model, not measured here.
#
# Input as the reference feeds it: the HHA PNG's channels as stored (the reference swaps
# colour images to BGR but not HHA ones). mmseg reads PNGs as BGR, i.e. reversed, so
# bgr_to_rgb=True turns them back into the stored order; the mean (132.431, 94.076,
# 118.477) is in that order. The recipe is that of the colour config.
_base_ = './fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-fullsize.py'
data_preprocessor = dict(mean=[132.431, 94.076, 118.477], std=[1.0, 1.0, 1.0], bgr_to_rgb=True)
model = dict(data_preprocessor=data_preprocessor)
train_dataloader = dict(dataset=dict(data_prefix=dict(img_path='hha')))
val_dataloader = dict(dataset=dict(data_prefix=dict(img_path='hha')))
test_dataloader = val_dataloader
