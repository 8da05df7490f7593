"""Odd images go through the toy config's pipelines and the model; bad ones are named.

Grayscale, RGBA and 16-bit images load as 8-bit BGR (mmcv's ``LoadImageFromFile``
converts them); images of 1x1, smaller than the net's stride (5x7) and of extreme
aspect ratios (8x700, 700x8) train with finite losses and are predicted at their own
size.
"""

import copy
import re

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS

from tests.helpers import REPO

#: Image sizes (height, width) that stress the net's stride and crops.
SIZES = {'one': (1, 1), 'tiny': (5, 7), 'wide': (8, 700), 'tall': (700, 8)}
LIGHT_MODEL = dict(
    backbone=dict(base_channels=4, fc_channels=16), decode_head=dict(in_channels=(16, 32, 16))
)


def _label(height, width):
    label = (np.arange(height * width).reshape(height, width) % 5).astype(np.uint8)
    label[-1, -1] = 255
    return label


def _samples():
    rng = np.random.default_rng(0)
    samples = {
        'gray': (rng.integers(0, 256, (40, 50), dtype=np.uint8), _label(40, 50)),
        'rgba': (rng.integers(0, 256, (45, 33, 4), dtype=np.uint8), _label(45, 33)),
        'deep': (rng.integers(0, 65536, (37, 41, 3), dtype=np.uint16), _label(37, 41)),
    }
    for name, (height, width) in SIZES.items():
        samples[name] = (
            rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
            _label(height, width),
        )
    return samples


@pytest.fixture(scope='module')
def odd_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('odd')
    for split in ('train', 'val'):
        (root / 'img_dir' / split).mkdir(parents=True)
        (root / 'ann_dir' / split).mkdir(parents=True)
        for name, (image, label) in _samples().items():
            assert cv2.imwrite(str(root / 'img_dir' / split / f'{name}.png'), image)
            assert cv2.imwrite(str(root / 'ann_dir' / split / f'{name}.png'), label)
    return root


@pytest.fixture(scope='module')
def cfg(odd_data):
    cfg = Config.fromfile(str(REPO / 'configs' / 'fcn8s_toy.py'))
    cfg.merge_from_dict(dict(model=LIGHT_MODEL))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = str(odd_data)
    return cfg


@pytest.fixture(scope='module')
def model(cfg):
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _by_name(dataset):
    return {
        dataset.get_data_info(i)['img_path'].split('/')[-1][:-4]: i for i in range(len(dataset))
    }


def test_test_pipeline_keeps_each_size_and_the_model_predicts_it(cfg, model):
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    model.eval()
    for name, index in _by_name(dataset).items():
        sample = dataset[index]
        image, label = _samples()[name]
        height, width = image.shape[:2]
        assert tuple(sample['inputs'].shape) == (3, height, width), name
        assert sample['inputs'].dtype == torch.uint8
        assert np.array_equal(sample['data_samples'].gt_sem_seg.data[0].numpy(), label)
        with torch.no_grad():
            prediction = model.test_step(pseudo_collate([sample]))[0]
        assert tuple(prediction.pred_sem_seg.shape) == (height, width), name


def test_grayscale_rgba_and_16_bit_images_load_as_8_bit_bgr(cfg):
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    indices = _by_name(dataset)
    samples = _samples()
    gray = dataset[indices['gray']]['inputs'].numpy()
    assert np.array_equal(gray, np.stack([samples['gray'][0]] * 3))
    rgba = dataset[indices['rgba']]['inputs'].numpy()
    assert np.array_equal(rgba, samples['rgba'][0][..., :3].transpose(2, 0, 1))
    deep = dataset[indices['deep']]['inputs'].numpy()
    assert np.array_equal(deep, (samples['deep'][0] >> 8).transpose(2, 0, 1))


def test_train_pipeline_and_loss_handle_every_odd_image(cfg, model):
    """Every odd image gives a crop of the crop size holding only its own labels (or
    255 where padded), and the loss is the cross entropy of the aligned logits."""
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    crop = tuple(cfg.crop_size)
    assert all(tuple(x.shape[-2:]) == crop for x in batch['inputs'])
    model = copy.deepcopy(model).eval()  # no dropout: the loss sees the logits below
    for parameter in model.decode_head.parameters():
        torch.nn.init.normal_(parameter)
    data = model.data_preprocessor(batch, training=True)
    labels = torch.stack([s.gt_sem_seg.data[0] for s in data['data_samples']]).long()
    for name, index in _by_name(dataset).items():
        assert set(labels[index].unique().tolist()) <= set(
            np.unique(_samples()[name][1]).tolist()
        ) | {255}, name
    losses = model.loss(**data)
    with torch.no_grad():
        logits = model.decode_head(model.extract_feat(data['inputs']))
    # mmseg averages over all pixels, ignored ones contributing 0 (avg_non_ignore=False).
    expected = (
        F.cross_entropy(
            logits[..., : crop[0], : crop[1]], labels, ignore_index=255, reduction='sum'
        )
        / labels.numel()
    )
    torch.testing.assert_close(losses['decode.loss_ce'], expected, rtol=1e-4, atol=0)


@pytest.mark.parametrize(
    'damage, message',
    [
        ('empty image', 'image file {img} is empty (0 bytes)'),
        ('truncated label', 'label map file {ann} cannot be read as an image'),
        ('label out of classes', 'label map {ann} has 3 pixels with values [9]'),
        ('size mismatch', 'label map {ann} is 5x8 but its image {img} is 5x7'),
    ],
)
def test_bad_pairs_fail_naming_the_files(cfg, tmp_path, damage, message):
    root = tmp_path / 'bad'
    img_dir, ann_dir = root / 'img_dir' / 'train', root / 'ann_dir' / 'train'
    img_dir.mkdir(parents=True)
    ann_dir.mkdir(parents=True)
    img, ann = img_dir / 'x.png', ann_dir / 'x.png'
    cv2.imwrite(str(img), np.zeros((5, 7, 3), np.uint8))
    label = np.zeros((5, 7), np.uint8)
    if damage == 'label out of classes':
        label[0, :3] = 9
    if damage == 'size mismatch':
        label = np.zeros((5, 8), np.uint8)
    cv2.imwrite(str(ann), label)
    if damage == 'empty image':
        img.write_bytes(b'')
    if damage == 'truncated label':
        ann.write_bytes(ann.read_bytes()[:30])
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.data_root = str(root)
    dataset = DATASETS.build(dataset_cfg)
    with pytest.raises(ValueError, match=re.escape(message.format(img=img, ann=ann))):
        dataset[0]


def test_unreadable_training_samples_can_be_skipped(cfg, tmp_path):
    root = tmp_path / 'skip'
    for name in ('a', 'b'):
        for folder in ('img_dir', 'ann_dir'):
            (root / folder / 'train').mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / 'img_dir' / 'train' / f'{name}.png'), np.zeros((9, 9, 3), np.uint8))
        cv2.imwrite(str(root / 'ann_dir' / 'train' / f'{name}.png'), np.zeros((9, 9), np.uint8))
    (root / 'img_dir' / 'train' / 'a.png').write_bytes(b'')
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.data_root = str(root)
    assert dataset_cfg.pipeline[1]['type'] == 'CheckSegFiles'
    dataset_cfg.pipeline[1]['skip_unreadable'] = True
    dataset = DATASETS.build(dataset_cfg)
    assert dataset.get_data_info(0)['img_path'].endswith('a.png')
    assert dataset[0]['data_samples'].img_path.endswith('b.png')
