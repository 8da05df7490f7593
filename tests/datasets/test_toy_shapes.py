from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmseg_fcn_skip.datasets import TOY_SHAPES_CLASSES, ToyShapesDataset, generate_toy_shapes
from mmseg_fcn_skip.datasets.toy_shapes import _draw_shape, _shape_pixels

#: The mean RGB colour of each foreground class (disc, box, triangle, bar).
MEAN_RGB = {1: (200, 70, 70), 2: (70, 180, 80), 3: (80, 100, 200), 4: (200, 190, 60)}


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_toy_shapes(tmp_path_factory.mktemp('toy'), num_train=24, num_val=6, seed=3)


def _read_tree(root: Path) -> dict:
    return {path.relative_to(root): path.read_bytes() for path in sorted(root.rglob('*.png'))}


def test_same_seed_gives_identical_files(toy_root, tmp_path):
    again = generate_toy_shapes(tmp_path, num_train=24, num_val=6, seed=3)
    assert _read_tree(again) == _read_tree(toy_root)


def test_different_seed_gives_different_images(toy_root, tmp_path):
    other = generate_toy_shapes(tmp_path, num_train=24, num_val=6, seed=4)
    first = (toy_root / 'img_dir/train/train_00000.png').read_bytes()
    assert (other / 'img_dir/train/train_00000.png').read_bytes() != first


@pytest.mark.parametrize('split,count', [('train', 24), ('val', 6)])
def test_layout_pairs_every_image_with_a_label_map(toy_root, split, count):
    images = sorted(p.name for p in (toy_root / 'img_dir' / split).iterdir())
    labels = sorted(p.name for p in (toy_root / 'ann_dir' / split).iterdir())
    assert len(images) == count
    assert images == labels


def test_labels_are_class_indices_or_ignore(toy_root):
    seen = set()
    for ann_path in sorted(toy_root.glob('ann_dir/*/*.png')):
        label = cv2.imread(str(ann_path), cv2.IMREAD_UNCHANGED)
        image = cv2.imread(str(toy_root / 'img_dir' / ann_path.parent.name / ann_path.name))
        assert label.dtype == np.uint8 and label.ndim == 2
        assert label.shape == image.shape[:2]
        seen.update(np.unique(label).tolist())
    assert seen == set(range(len(TOY_SHAPES_CLASSES))) | {255}


def test_sizes_are_varied_and_include_odd_ones(toy_root):
    sizes = [cv2.imread(str(path)).shape[:2] for path in toy_root.glob('img_dir/*/*.png')]
    sides = np.array(sizes).ravel()
    assert sides.min() >= 97 and sides.max() <= 193
    assert (sides % 2 == 1).any()
    assert len(set(sizes)) > len(sizes) // 2


def test_size_range_is_inclusive(tmp_path):
    root = generate_toy_shapes(tmp_path, num_train=12, num_val=0, size_range=(32, 33))
    sides = {
        side
        for path in root.glob('img_dir/train/*.png')
        for side in cv2.imread(str(path)).shape[:2]
    }
    assert sides == {32, 33}


@pytest.mark.parametrize('seed', range(10))
def test_bars_are_two_to_four_pixels_wide(seed):

    mask = np.zeros((151, 97), dtype=np.uint8)
    _draw_shape(np.random.default_rng(seed), mask, class_id=4)
    points = np.argwhere(mask).astype(np.float64)
    points -= points.mean(0)
    axis = np.linalg.svd(points, full_matrices=False)[2][0]
    along = points @ axis
    width = len(points) / (along.max() - along.min() + 1)
    assert 1.5 <= width <= 4.5


def test_dataset_loads_through_registry(toy_root):
    init_default_scope('mmseg')
    dataset = DATASETS.build(
        dict(
            type='ToyShapesDataset',
            data_root=str(toy_root),
            data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations'),
                dict(type='PackSegInputs'),
            ],
        )
    )
    assert isinstance(dataset, ToyShapesDataset)
    assert len(dataset) == 6
    assert dataset.metainfo['classes'] == TOY_SHAPES_CLASSES
    for index in range(6):
        sample = dataset[index]
        name = Path(sample['data_samples'].img_path).name
        image = cv2.imread(str(toy_root / 'img_dir' / 'val' / name))  # BGR, as mmseg
        label = cv2.imread(str(toy_root / 'ann_dir' / 'val' / name), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(sample['inputs'].numpy(), image.transpose(2, 0, 1))
        assert np.array_equal(sample['data_samples'].gt_sem_seg.data[0].numpy(), label)


def test_shapes_have_the_colour_of_their_class(toy_root):
    """Averaged over the shapes drawn, a class's pixels have its mean RGB colour (each
    shape draws its colour around it with a spread of 25)."""
    pixels = {c: [] for c in MEAN_RGB}
    for ann_path in sorted(toy_root.glob('ann_dir/train/*.png')):
        label = cv2.imread(str(ann_path), cv2.IMREAD_UNCHANGED)
        bgr = cv2.imread(str(toy_root / 'img_dir' / 'train' / ann_path.name))
        for class_id in MEAN_RGB:
            pixels[class_id].append(bgr[label == class_id][:, ::-1])
    for class_id, expected in MEAN_RGB.items():
        found = np.concatenate(pixels[class_id]).mean(0)
        assert np.abs(found - expected).max() < 30, (class_id, found)


class _NoSpread:
    """Draws every normal value at its mean: shape colours without their jitter."""

    def normal(self, loc=0.0, scale=1.0, size=None):
        return np.full(size, loc, dtype=np.float64)


@pytest.mark.parametrize('class_id', sorted(MEAN_RGB))
def test_a_shape_without_jitter_has_exactly_its_class_colour(class_id):
    pixels = _shape_pixels(_NoSpread(), class_id, count=3)
    assert pixels.dtype == np.uint8
    assert pixels.tolist() == [list(MEAN_RGB[class_id])] * 3


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(num_train=-1), 'num_train must be >= 0, got -1'),
        (dict(num_val=-2), 'num_val must be >= 0, got -2'),
        (dict(size_range=(10, 50)), r'32 <= min <= max, got \(10, 50\)'),
        (dict(size_range=(150, 100)), r'32 <= min <= max, got \(150, 100\)'),
        (dict(max_shapes=0), 'max_shapes must be >= 1, got 0'),
    ],
)
def test_invalid_arguments_raise(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_toy_shapes(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())  # nothing written
