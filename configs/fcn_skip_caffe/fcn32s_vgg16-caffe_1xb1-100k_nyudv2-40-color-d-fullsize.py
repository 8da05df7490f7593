# FCN-32s, Caffe-exact, on NYUDv2 (40 classes), colour and depth fused early (one
# 4-channel input), as the reference's nyud-fcn32s-color-d: trainval (795) -> test (654),
# batch 1, full images.
#
# Expected: 30.5 mean IU -- the paper's number (CVPR, Table 4, FCN-32s RGB-D early
# fusion), not measured here. No weights were released for this net (the reference names
# none), so there is no short name to test with: train it.
#
# Input as the reference feeds it: 4 channels, the colour image as BGR (mmseg reads BGR)
# then log(depth in mm) (LoadMultiModalImage; depth/img_<id>.png, 16-bit mm, written by
# tools/dataset_converters/nyud.py --depth), minus NYUDv2's colour mean and 7.844 for
# log depth, std 1 (MultiModalDataPreProcessor: one mean per channel). A depth pixel of
# 0 (missing) becomes 7.844, i.e. 0 after the mean.
# From Caffe's ImageNet VGG16 as the reference: conv1_1 is widened to 4 channels when the
# weights are loaded, the depth channel's filters starting as the mean of the colour
# filters (conv1_1_bgrd). Solver as the colour config (fixed lr 1e-10 on the summed loss,
# as 2.5e-5 on mmseg's averaged one; 100k iterations).
_base_ = './fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-fullsize.py'
# Sibling files of each colour image: data/nyudv2/depth/img_<id>.png.
modalities = dict(depth='depth')
train_pipeline = [
    dict(type='ApplySampleSeed'),  # augmentation reproducible across resumes
    dict(type='CheckSegFiles'),  # missing/empty/damaged files: error naming them
    dict(type='LoadMultiModalImage', modalities=('depth',)),  # BGR + log depth (mm)
    dict(type='LoadAnnotations'),
    dict(type='CheckSegPair', num_classes=40),  # sizes agree, labels 0..39 or 255
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadMultiModalImage', modalities=('depth',)),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(modalities=modalities, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(modalities=modalities, pipeline=test_pipeline))
test_dataloader = val_dataloader
data_preprocessor = dict(
    type='MultiModalDataPreProcessor',
    mean=[116.190, 97.203, 92.318, 7.844],
    std=[1.0, 1.0, 1.0, 1.0],
    bgr_to_rgb=False,
)
model = dict(data_preprocessor=data_preprocessor, backbone=dict(in_channels=4))
