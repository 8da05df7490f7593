import random
import re

import cv2
import numpy as np
import pytest
import torch

from mmseg_fcn_skip.engine import ApplySampleSeed, CheckSegFiles, CheckSegPair, SeededIndex


def _png(path, array):
    assert cv2.imwrite(str(path), array)
    return str(path)


@pytest.fixture
def pair(tmp_path):
    """A 20x30 RGB image and its label map (classes 0..2 and 255)."""
    label = np.zeros((20, 30), np.uint8)
    label[5:10, 5:10], label[0, 0] = 2, 255
    return dict(
        img_path=_png(tmp_path / 'img.png', np.full((20, 30, 3), 90, np.uint8)),
        seg_map_path=_png(tmp_path / 'ann.png', label),
    )


def _loaded(image_shape, label, img_path='a/img.png', seg_map_path='a/ann.png'):
    return dict(
        img=np.zeros(image_shape, np.uint8),
        gt_seg_map=label,
        img_path=img_path,
        seg_map_path=seg_map_path,
    )


# ApplySampleSeed


def test_apply_sample_seed_makes_the_draws_a_function_of_the_sample_seed():
    draws = []
    for _ in range(2):
        ApplySampleSeed()(dict(sample_idx=SeededIndex(3, seed=1234)))
        draws.append((random.random(), np.random.rand(), torch.rand(1).item()))
    assert draws[0] == draws[1]
    ApplySampleSeed()(dict(sample_idx=SeededIndex(3, seed=1235)))
    assert (random.random(), np.random.rand(), torch.rand(1).item()) != draws[0]


def test_apply_sample_seed_seeds_every_generator_with_the_sample_seed():
    seed = 1234 + (5 << 32)
    ApplySampleSeed()(dict(sample_idx=SeededIndex(3, seed=seed)))
    assert random.random() == random.Random(seed).random()
    assert np.random.rand() == np.random.RandomState([1234, 5]).rand()
    assert torch.rand(1) == torch.rand(1, generator=torch.Generator().manual_seed(seed))


def test_apply_sample_seed_leaves_rngs_alone_without_a_seed():
    np.random.seed(7)
    expected = np.random.rand()
    np.random.seed(7)
    results = ApplySampleSeed()(dict(sample_idx=3))
    assert results['sample_idx'] == 3
    assert np.random.rand() == expected


def _record_warnings(monkeypatch) -> list:
    """The messages the transforms log from now on."""
    logged = []
    monkeypatch.setattr(
        'mmseg_fcn_skip.engine.transforms.print_log',
        lambda message, **kwargs: logged.append(message),
    )
    return logged


def test_apply_sample_seed_warns_once_and_only_without_any_seed(monkeypatch):
    logged = _record_warnings(monkeypatch)
    unseeded = ApplySampleSeed()
    for index in range(3):
        unseeded(dict(sample_idx=index))
    assert len(logged) == 1 and 'found no seed on the sample index' in logged[0]
    seeded = ApplySampleSeed()
    seeded(dict(sample_idx=SeededIndex(0, seed=5)))
    seeded(dict(sample_idx=7))  # a replacement draw after a seeded sample
    assert len(logged) == 1


# CheckSegFiles


def test_check_seg_files_passes_good_files(pair):
    assert CheckSegFiles()(dict(pair)) == pair


@pytest.mark.parametrize(
    'damage, problem',
    [
        (lambda p: p.write_bytes(b''), 'is empty (0 bytes)'),
        (
            lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
            'cannot be read as an image',
        ),
        (lambda p: p.write_bytes(b'not an image at all'), 'cannot be read as an image'),
        (lambda p: p.unlink(), 'does not exist'),
    ],
)
@pytest.mark.parametrize('key, role', [('img_path', 'image'), ('seg_map_path', 'label map')])
def test_check_seg_files_names_the_bad_file(pair, tmp_path, key, role, damage, problem):
    damage(tmp_path / ('img.png' if key == 'img_path' else 'ann.png'))
    with pytest.raises(
        ValueError, match=re.escape(f'{role} file {pair[key]} {problem}') + '.*skip_unreadable=True'
    ):
        CheckSegFiles()(dict(pair))


def test_check_seg_files_detects_a_flipped_byte(pair, tmp_path):
    path = tmp_path / 'img.png'
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF  # inside the compressed data; the chunk CRC no longer fits
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f'image file {path} cannot be read'):
        CheckSegFiles()(dict(pair))


def test_check_seg_files_skips_bad_samples_when_asked(pair, tmp_path):
    (tmp_path / 'ann.png').write_bytes(b'')
    assert CheckSegFiles(skip_unreadable=True)(dict(pair)) is None


def test_check_seg_files_rejects_16_bit_labels_beyond_uint8(pair, tmp_path):
    _png(tmp_path / 'ann.png', np.full((20, 30), 300, np.uint16))
    with pytest.raises(ValueError, match='values up to 300.*wrap around'):
        CheckSegFiles()(dict(pair))
    _png(tmp_path / 'ann.png', np.full((20, 30), 3, np.uint16))
    assert CheckSegFiles()(dict(pair)) is not None


@pytest.mark.parametrize('largest, accepted', [(255, True), (256, False)])
def test_check_seg_files_16_bit_boundary_is_the_uint8_range(pair, tmp_path, largest, accepted):
    label = np.zeros((20, 30), np.uint16)
    label[3, 4] = largest
    _png(tmp_path / 'ann.png', label)
    if accepted:
        assert CheckSegFiles()(dict(pair)) == pair
    else:
        with pytest.raises(ValueError, match=f'values up to {largest};'):
            CheckSegFiles()(dict(pair))


def test_check_seg_files_checks_only_paths_present(pair):
    assert CheckSegFiles()(dict(img_path=pair['img_path'])) is not None
    assert CheckSegFiles()(dict(img=np.zeros((2, 2, 3)))) is not None


# CheckSegPair


def test_check_seg_pair_passes_a_good_pair():
    label = np.array([[0, 1], [4, 255]], np.uint8)
    results = CheckSegPair(num_classes=5)(_loaded((2, 2, 3), label))
    assert results['gt_seg_map'] is label


def test_check_seg_pair_names_both_files_when_sizes_differ():
    with pytest.raises(
        ValueError, match='label map a/ann.png is 20x31 but its image a/img.png is 20x30'
    ):
        CheckSegPair(5)(_loaded((20, 30, 3), np.zeros((20, 31), np.uint8)))


def test_check_seg_pair_raises_on_labels_outside_the_classes():
    label = np.array([[0, 7], [9, 255]], np.uint8)
    with pytest.raises(
        ValueError,
        match=re.escape(
            'label map a/ann.png has 2 pixels with values [7, 9], which are neither '
            'a class index (0..4) nor ignore_index=255'
        )
        + ".*invalid_label='ignore'",
    ):
        CheckSegPair(5)(_loaded((2, 2, 3), label))


@pytest.mark.parametrize('num_classes', [1, 5, 21])
def test_check_seg_pair_boundary_is_num_classes(num_classes):
    """num_classes - 1 and ignore_index pass; num_classes itself is outside."""
    last = np.array([[0, num_classes - 1], [255, 0]], np.uint8)
    assert CheckSegPair(num_classes)(_loaded((2, 2, 3), last))['gt_seg_map'] is last
    first_outside = np.array([[0, num_classes - 1], [255, num_classes]], np.uint8)
    with pytest.raises(
        ValueError,
        match=re.escape(
            f'has 1 pixels with values [{num_classes}], which are neither a class index '
            f'(0..{num_classes - 1}) nor ignore_index=255'
        ),
    ):
        CheckSegPair(num_classes)(_loaded((2, 2, 3), first_outside))
    ignored = CheckSegPair(num_classes, invalid_label='ignore')(_loaded((2, 2, 3), first_outside))[
        'gt_seg_map'
    ]
    assert ignored.tolist() == [[0, num_classes - 1], [255, 255]]


def test_check_seg_pair_uses_its_own_ignore_index():
    label = np.array([[0, 250], [4, 0]], np.uint8)
    assert CheckSegPair(5, ignore_index=250)(_loaded((2, 2, 3), label))['gt_seg_map'] is label
    label[1, 1] = 255
    with pytest.raises(ValueError, match=re.escape('values [255]') + '.*ignore_index=250'):
        CheckSegPair(5, ignore_index=250)(_loaded((2, 2, 3), label))


def test_check_seg_pair_warns_once_per_file(monkeypatch):
    logged = _record_warnings(monkeypatch)
    check = CheckSegPair(5, invalid_label='ignore')
    label = np.array([[0, 7]], np.uint8)
    for path in ('a/ann.png', 'a/ann.png', 'b/ann.png', 'a/ann.png'):
        check(_loaded((1, 2, 3), label, seg_map_path=path))
    assert logged == [
        f'label map {path} has 1 pixels with values [7], which are neither a class '
        'index (0..4) nor ignore_index=255; they are ignored.'
        for path in ('a/ann.png', 'b/ann.png')
    ]


def test_check_seg_pair_can_ignore_labels_outside_the_classes():

    label = np.array([[0, 7], [9, 255]], np.uint8)
    results = CheckSegPair(5, invalid_label='ignore')(_loaded((2, 2, 3), label))
    assert results['gt_seg_map'].tolist() == [[0, 255], [255, 255]]
    assert label.tolist() == [[0, 7], [9, 255]]  # the input is not modified


def test_check_seg_pair_rejects_colour_label_maps():
    with pytest.raises(ValueError, match='single-channel image of class indices'):
        CheckSegPair(5)(_loaded((4, 4, 3), np.zeros((4, 4, 3), np.uint8)))


@pytest.mark.parametrize('shape', [(1, 1), (1, 9), (9, 1)])
def test_check_seg_pair_restores_squeezed_labels_of_thin_images(shape):
    label = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape) % 5
    results = CheckSegPair(5)(_loaded(shape + (3,), label.squeeze()))
    assert results['gt_seg_map'].shape == shape
    assert np.array_equal(results['gt_seg_map'], label)


def test_check_seg_pair_without_labels_checks_the_image_only():
    results = CheckSegPair(5)(dict(img=np.zeros((3, 4, 3), np.uint8)))
    assert 'gt_seg_map' not in results
    with pytest.raises(ValueError, match=r'loaded with shape \(0, 4, 3\)'):
        CheckSegPair(5)(dict(img=np.zeros((0, 4, 3), np.uint8), img_path='x.png'))


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(num_classes=0), 'num_classes=0 must be a positive integer'),
        (dict(num_classes=5, invalid_label='drop'), "invalid_label='drop' is not supported"),
    ],
)
def test_check_seg_pair_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CheckSegPair(**kwargs)
