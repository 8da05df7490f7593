# FCN-32s colour-HHA late fusion, Caffe-exact, on NYUDv2 (40 classes), as the reference's
# nyud-fcn32s-color-hha: two VGG16 FCN-32s streams, one on the colour image, one on the HHA
# image; their score maps summed with weights 0.5 and 0.5 (score_fused), upsampled once and
# cropped to the input. trainval (795) -> test (654), batch 1, full images.
#
# Expected: 32.8 mean IU -- the paper's number (CVPR, Table 4, FCN-32s RGB-HHA) for its
# CVPR-era model; the released nyud-fcn32s-color-hha-heavy is a later model, not measured
# here (python tools/test.py
# configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-hha-fullsize.py
# nyud-fcn32s-color-hha-heavy).
#
# Input: one 6-channel image, LoadMultiModalImage(modalities=('hha',)): colour's 3 channels
# in BGR (as mmcv reads them, as the colour stream takes them), then HHA's 3 in the order
# stored in the PNG (as the HHA stream takes them); the data preprocessor subtracts each
# stream's mean (colour (116.190, 97.203, 92.318), HHA (132.431, 94.076, 118.477)), one per
# channel (MultiModalDataPreProcessor: mmseg's own takes 1 or 3), and swaps nothing.
#
# Model: MultiStreamBackbone splits the channels (3 + 3) and runs one FullyConvVGG per
# stream; LateFusionHead scores and upsamples each stream with its own FCNSkipHead and sums
# the logits with weights 0.5 and 0.5. The reference's upsampling (fixed bilinear) and crop
# are linear and shared, so this equals upsampling the summed scores.
#
# Reference solver: the streams start from the trained colour and HHA nets
# (nyud-fcn32s-color-heavy, nyud-fcn32s-hha-heavy, fetched and converted on first use; each
# stream's init_cfg takes its net's backbone and score layer), fixed lr 1e-12 on the summed
# loss -> 1e-12 * 250k = 2.5e-7 on mmseg's averaged loss (weight decay 2e-9, momentum 0.99,
# as the colour config), 100k iterations.
_base_ = './fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-fullsize.py'
# Set once, taken by both streams of the backbone and of the head (they must agree).
pad_mode = 'caffe'
modalities = ('hha',)
colour_net, hha_net = 'nyud-fcn32s-color-heavy', 'nyud-fcn32s-hha-heavy'
train_pipeline = [
    dict(type='ApplySampleSeed'),  # augmentation reproducible across resumes
    dict(type='CheckSegFiles'),  # missing/empty/damaged files: error naming them
    dict(type='LoadMultiModalImage', modalities=modalities),  # colour BGR + HHA as stored
    dict(type='LoadAnnotations'),
    dict(type='CheckSegPair', num_classes=40),  # sizes agree, labels 0..39 or 255
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadMultiModalImage', modalities=modalities),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
# The HHA image of images/img_<id>.png is hha/img_<id>.png (NYUDv2Dataset's naming rule).
train_dataloader = dict(dataset=dict(modalities=dict(hha='hha'), pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(modalities=dict(hha='hha'), pipeline=test_pipeline))
test_dataloader = val_dataloader
data_preprocessor = dict(
    type='MultiModalDataPreProcessor',
    mean=[116.190, 97.203, 92.318, 132.431, 94.076, 118.477],
    std=[1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    bgr_to_rgb=False,
)


def _stream_backbone(net):
    return dict(
        type='FullyConvVGG',
        depth=16,
        pad_mode=pad_mode,
        out_indices=(5,),
        init_cfg=dict(type='Pretrained', checkpoint=net, prefix='backbone.'),
    )


def _stream_head(index, net):
    return dict(
        type='FCNSkipHead',
        pad_mode=pad_mode,
        in_channels=(4096,),
        in_index=(index,),  # stream index's fc7 in the backbone's flat outputs
        num_classes=40,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0, avg_non_ignore=False
        ),
        init_cfg=dict(type='Pretrained', checkpoint=net, prefix='decode_head.'),
    )


model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _delete_=True,
        type='MultiStreamBackbone',
        in_channels=(3, 3),
        streams=[_stream_backbone(colour_net), _stream_backbone(hha_net)],
    ),
    decode_head=dict(
        _delete_=True,
        type='LateFusionHead',
        weights=(0.5, 0.5),
        streams=[_stream_head(0, colour_net), _stream_head(1, hha_net)],
    ),
)
optim_wrapper = dict(optimizer=dict(lr=2.5e-7))
