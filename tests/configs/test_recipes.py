"""The seg11valid configs carry the reference recipe; the modern ones theirs."""

from pathlib import Path

import pytest
from mmengine.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
CAFFE = REPO_ROOT / 'configs' / 'fcn_skip_caffe'
# Reference solver: lr on the loss summed over ~250k pixels, weight decay 5e-4.
PIXELS = 250_000
REFERENCE_DECAY = 5e-4
# variant: (config, reference lr, iterations, backbone levels, in_channels,
#           skip_scales, starts from, paper's mean IU on seg11valid)
SEG11VALID = {
    '32s': (
        'fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py',
        1e-10,
        100_000,
        (5,),
        (4096,),
        None,
        'vgg16',
        '63.6',
    ),
    '16s': (
        'fcn16s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py',
        1e-12,
        100_000,
        (3, 5),
        (512, 4096),
        None,
        'fcn32s',
        '65.0',
    ),
    '8s': (
        'fcn8s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py',
        1e-14,
        100_000,
        (2, 3, 5),
        (256, 512, 4096),
        None,
        'fcn16s',
        '65.5',
    ),
    '8s-atonce': (
        'fcn8s-atonce_vgg16-caffe_1xb1-300k_seg11valid-fullsize.py',
        1e-10,
        300_000,
        (2, 3, 5),
        (256, 512, 4096),
        (0.0001, 0.01),
        'vgg16',
        '65.4',
    ),
}


@pytest.mark.parametrize('variant', list(SEG11VALID))
def test_seg11valid_config_follows_the_reference(variant):
    name, lr, iters, levels, channels, scales, start, miu = SEG11VALID[variant]
    cfg = Config.fromfile(CAFFE / name)
    model = cfg.model
    assert model.backbone.pad_mode == model.decode_head.pad_mode == 'caffe'
    assert model.backbone.out_indices == levels
    assert model.decode_head.in_channels == channels
    assert model.decode_head.get('skip_scales') == scales
    assert model.decode_head.get('learn_upsample', False) is False
    assert model.data_preprocessor.mean == [104.00699, 116.66877, 122.67892]
    assert model.data_preprocessor.std == [1.0, 1.0, 1.0]
    assert model.data_preprocessor.bgr_to_rgb is False
    assert model.data_preprocessor.size_divisor == 1 and 'size' not in model.data_preprocessor
    assert model.decode_head.loss_decode.avg_non_ignore is False
    assert model.test_cfg.mode == 'whole'

    optimizer = cfg.optim_wrapper.optimizer
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert (optimizer.type, optimizer.momentum) == ('SGD', 0.99)
    assert optimizer.lr == pytest.approx(lr * PIXELS)
    # Same steps as the summed loss: lr * decay is the reference's.
    assert optimizer.lr * optimizer.weight_decay == pytest.approx(lr * REFERENCE_DECAY)
    assert cfg.optim_wrapper.paramwise_cfg == dict(bias_lr_mult=2.0, bias_decay_mult=0.0)
    assert 'param_scheduler' not in cfg  # fixed learning rate
    assert cfg.train_cfg.max_iters == iters
    assert cfg.train_cfg.val_interval == 4000

    if start == 'vgg16':
        assert model.backbone.init_cfg.checkpoint == 'vgg16_caffe'  # Caffe's VGG16
        assert cfg.load_from is None
    else:
        assert model.backbone.init_cfg is None
        previous = f'{start}_vgg16-caffe_1xb1-100k_seg11valid-fullsize'
        assert cfg.load_from == f'work_dirs/{previous}/iter_100000.pth'

    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        assert loader.batch_size == 1
    assert [t.type for t in cfg.val_dataloader.dataset.pipeline] == [
        'LoadImageFromFile',
        'LoadAnnotations',
        'PackSegInputs',
    ]
    # Training: no augmentation, but checked inputs and an exactly resumable order.
    assert cfg.train_dataloader.dataset.pipeline == [
        dict(type='ApplySampleSeed'),
        dict(type='CheckSegFiles'),
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='CheckSegPair', num_classes=21),
        dict(type='PackSegInputs'),
    ]
    assert cfg.train_dataloader.sampler == dict(type='SeededInfiniteSampler', shuffle=True)
    assert cfg.train_dataloader.dataset.ann_file.endswith('sbd_train.txt')
    assert cfg.val_dataloader.dataset.ann_file.endswith('seg11valid.txt')
    assert cfg.val_evaluator.type == cfg.test_evaluator.type == 'FCNMetric'
    text = (CAFFE / name).read_text()
    assert f'Expected: {miu} mean IU on seg11valid' in text


@pytest.mark.parametrize(
    'name, dataset, classes, crop, batch, source',
    [
        (
            'fcn8s_vgg16_4xb4-40k_pascal-context-59-480x480.py',
            'PascalContextDataset59',
            59,
            (480, 480),
            4,
            '35.1',
        ),
        (
            'fcn8s_vgg16_4xb2-80k_cityscapes-512x1024.py',
            'CityscapesDataset',
            19,
            (512, 1024),
            2,
            '65.3',
        ),
        ('fcn8s_vgg16_4xb4-80k_ade20k-512x512.py', 'ADE20KDataset', 150, (512, 512), 4, '29.39'),
    ],
)
def test_modern_configs(name, dataset, classes, crop, batch, source):
    path = REPO_ROOT / 'configs' / 'fcn_skip' / name
    cfg = Config.fromfile(path)
    assert cfg.train_dataloader.dataset.type == dataset
    assert cfg.model.decode_head.num_classes == classes
    assert cfg.model.data_preprocessor.size == crop
    assert cfg.model.data_preprocessor.bgr_to_rgb is True
    assert cfg.train_dataloader.batch_size == batch
    assert (cfg.optim_wrapper.type, cfg.optim_wrapper.dtype) == ('AmpOptimWrapper', 'bfloat16')
    assert [s.type for s in cfg.param_scheduler] == ['PolyLR']
    assert cfg.val_evaluator.type == 'FCNMetric'
    text = path.read_text()
    assert 'Expected: no published number for this recipe' in text and source in text
