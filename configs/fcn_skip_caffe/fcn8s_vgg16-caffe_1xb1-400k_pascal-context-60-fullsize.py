# FCN-8s, Caffe-exact, on PASCAL-Context with background as a 60th class, scored as the
# reference trains it: every pixel outside the 59 classes is background (label 0), a
# class that is trained and scored (mmseg's PascalContextDataset, background first).
#
# Expected: no published number for this scoring (the paper's 35.1 mean IU counts the 59
# classes only; see fcn8s_vgg16-caffe_1xb1-400k_pascal-context-59-fullsize.py).
#
# The released pascalcontext-fcn8s-heavy keeps all its 60 outputs for this config:
# python tools/model_converters/caffe_fcn2mmseg.py pascalcontext-fcn8s-heavy.caffemodel
#     checkpoints/pascalcontext-fcn8s-60_mmseg.pth --dataset PascalContextDataset
# Same data as the 59-class configs (tools/dataset_converters/pascal_context.py), read
# without reduce_zero_label.
_base_ = './fcn8s_vgg16-caffe_1xb1-400k_pascal-context-59-fullsize.py'
dataset_type = 'PascalContextDataset'
train_pipeline = [
    dict(type='ApplySampleSeed'),
    dict(type='CheckSegFiles'),
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegPair', num_classes=60),  # sizes agree, labels 0..59 or 255
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
model = dict(decode_head=dict(num_classes=60))
train_dataloader = dict(dataset=dict(type=dataset_type, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type, pipeline=test_pipeline))
test_dataloader = val_dataloader
