"""LoadTaskAnnotations and PackMultiTaskInputs; mmseg's geometric transforms move the
task labels with the image and the first task's labels."""

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope

from mmseg_fcn_skip.datasets.transforms import LoadTaskAnnotations, PackMultiTaskInputs

HEIGHT, WIDTH = 24, 32


def _blocks(seed=0):
    """``(24, 32)`` labels 0..4 in 4x4 blocks, random per block."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 5, (HEIGHT // 4, WIDTH // 4)).astype(np.uint8)
    return np.kron(blocks, np.ones((4, 4), np.uint8))


@pytest.fixture
def sample(tmp_path):
    """Files of one sample: image (every channel 40 x class), semantic labels and
    geometric labels (class mod 3), so each of the three tells the other two."""
    sem = _blocks()
    image = np.repeat((sem * 40)[..., None], 3, axis=2)
    for name, array in (('img', image), ('sem', sem), ('geo', sem % 3)):
        assert cv2.imwrite(str(tmp_path / f'{name}.png'), array)
    return dict(
        img_path=str(tmp_path / 'img.png'),
        seg_map_path=str(tmp_path / 'sem.png'),
        task_seg_map_paths=dict(geo=str(tmp_path / 'geo.png')),
        reduce_zero_label=False,
        seg_fields=[],
    )


def _pipeline(*transforms, scope='mmseg'):
    init_default_scope(scope)
    return Compose(
        [
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='LoadTaskAnnotations'),
            *transforms,
            dict(type='PackMultiTaskInputs'),
        ]
    )


def test_load_task_annotations_reads_each_task_into_seg_fields(sample):
    results = LoadTaskAnnotations()(dict(sample))
    assert results['seg_fields'] == ['gt_geo_seg']
    assert results['gt_geo_seg'].dtype == np.uint8
    assert np.array_equal(results['gt_geo_seg'], _blocks() % 3)


def test_load_task_annotations_without_paths_names_the_sample():
    with pytest.raises(KeyError, match='a/img.png has no task_seg_map_paths'):
        LoadTaskAnnotations()(dict(img_path='a/img.png'))


def test_load_task_annotations_missing_task_names_it(sample):
    with pytest.raises(KeyError, match=r"no label file of task 'depth' \(it has \['geo'\]\)"):
        LoadTaskAnnotations(tasks=('depth',))(dict(sample))


def test_pack_multi_task_inputs_packs_task_labels_as_pixel_data(sample):
    packed = _pipeline()(dict(sample))
    data_sample = packed['data_samples']
    geo = data_sample.gt_geo_seg.data
    assert geo.shape == (1, HEIGHT, WIDTH) and geo.dtype == torch.int64
    assert torch.equal(geo, torch.from_numpy(_blocks() % 3).long()[None])
    assert torch.equal(data_sample.gt_sem_seg.data, torch.from_numpy(_blocks()).long()[None])


def _aligned(packed):
    image = packed['inputs'][0].long()
    sem = packed['data_samples'].gt_sem_seg.data[0]
    geo = packed['data_samples'].gt_geo_seg.data[0]
    return image, sem, geo


@pytest.mark.parametrize(
    'transform',
    [
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='RandomFlip', prob=1.0, direction='vertical'),
        dict(type='RandomCrop', crop_size=(12, 20)),
    ],
    ids=['hflip', 'vflip', 'crop'],
)
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_flip_and_crop_move_task_labels_with_image_and_labels(sample, transform, seed):
    np.random.seed(seed)
    image, sem, geo = _aligned(_pipeline(transform)(dict(sample)))
    assert sem.shape == geo.shape == image.shape
    assert torch.equal(image, sem * 40)  # the image moved with the labels
    assert torch.equal(geo, sem % 3)  # and the task's labels too
    assert not torch.equal(sem, torch.from_numpy(_blocks()).long())  # they did move


@pytest.mark.parametrize(
    'transform',
    [
        dict(type='Resize', scale=(64, 48), keep_ratio=True),
        dict(type='RandomResize', scale=(32, 24), ratio_range=(0.5, 2.0), keep_ratio=True),
        dict(type='RandomChoiceResize', scales=[(40, 30), (16, 12)], keep_ratio=False),
    ],
    ids=['resize', 'random-resize', 'random-choice-resize'],
)
@pytest.mark.parametrize('seed', [0, 1])
def test_resizes_move_task_labels_with_the_labels(sample, transform, seed):
    np.random.seed(seed)
    image, sem, geo = _aligned(_pipeline(transform)(dict(sample)))
    assert sem.shape == geo.shape == image.shape
    assert sem.shape != (HEIGHT, WIDTH)
    assert torch.equal(geo, sem % 3)
    # the labels are resized nearest, the image bilinearly: equal away from edges
    assert (image == sem * 40).float().mean() > 0.5


def test_random_resize_in_the_plugin_scope_builds_mmseg_resize(sample):
    transform = dict(type='RandomResize', scale=(64, 48), ratio_range=(1.0, 1.0))
    image, sem, geo = _aligned(_pipeline(transform, scope='mmseg_fcn_skip')(dict(sample)))
    assert sem.shape == geo.shape == image.shape == (48, 64)
    assert torch.equal(geo, sem % 3)


def test_a_transform_that_moves_gt_seg_map_only_is_caught(sample):
    pipeline = _pipeline(dict(type='mmcv.Pad', size=(40, 40), pad_val=dict(img=0, seg=255)))
    with pytest.raises(ValueError, match=r"task 'geo' are \(24, 32\) but gt_seg_map is \(40, 40\)"):
        pipeline(dict(sample))


def test_pack_multi_task_inputs_is_registered():
    init_default_scope('mmseg_fcn_skip')
    from mmseg.registry import TRANSFORMS

    assert TRANSFORMS.get('PackMultiTaskInputs') is PackMultiTaskInputs
