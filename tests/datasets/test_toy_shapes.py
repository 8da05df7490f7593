from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmseg_fcn_skip.datasets import TOY_SHAPES_CLASSES, ToyShapesDataset, generate_toy_shapes
from mmseg_fcn_skip.datasets.toy_shapes import (
    IGNORE_INDEX,
    _draw_sample,
    _draw_shape,
    _shape_pixels,
)

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


#: The first images of the demo's data (``tools/demo.sh``: ``make_toy_dataset.py``, seed
#: 0), on which the README's measurements were made: size, pixels per label and the
#: mean RGB of each quadrant (top left, top right, bottom left, bottom right).
DEMO_IMAGES = {
    'train/train_00000.png': (
        (179, 158),
        {0: 27081, 3: 1201},
        [[63.5, 46.7, 191.5], [76.8, 50.2, 198.3], [81.4, 51.5, 201.4], [87.3, 56.7, 209.3]],
    ),
    'train/train_00001.png': (
        (183, 140),
        {0: 22827, 2: 583, 3: 883, 4: 1327},
        [[131.9, 82.9, 55.0], [127.8, 77.0, 47.2], [116.2, 62.8, 33.9], [106.3, 66.9, 53.7]],
    ),
    'val/val_00000.png': (
        (147, 183),
        {0: 22282, 1: 2209, 3: 1562, 4: 609, 255: 239},
        [[176.1, 211.8, 42.0], [166.2, 186.7, 59.1], [163.3, 220.3, 20.4], [148.5, 163.2, 64.0]],
    ),
}


def test_seed_0_still_writes_the_data_of_the_demo(tmp_path):
    """The README's scores were measured on this data: a change to the generator that
    changes it must come with the demo measured again (and these values updated).
    Checked with tolerances: numpy's float functions may differ in the last bits
    between CPUs, which may move a pixel of a shape's border or a grey level."""
    root = generate_toy_shapes(tmp_path, num_train=2, num_val=1)
    for name, (size, counts, quadrant_means) in DEMO_IMAGES.items():
        rgb = cv2.imread(str(root / 'img_dir' / name))[..., ::-1]
        label = cv2.imread(str(root / 'ann_dir' / name), cv2.IMREAD_UNCHANGED)
        assert label.shape == size, name
        found = dict(zip(*[a.tolist() for a in np.unique(label, return_counts=True)]))
        assert found.keys() == counts.keys(), name
        assert all(abs(found[k] - counts[k]) <= 4 for k in counts), (name, found)
        half_h, half_w = size[0] // 2, size[1] // 2
        quadrants = [
            rgb[:half_h, :half_w],
            rgb[:half_h, half_w:],
            rgb[half_h:, :half_w],
            rgb[half_h:, half_w:],
        ]
        means = [q.reshape(-1, 3).mean(0) for q in quadrants]
        assert np.allclose(means, quadrant_means, atol=0.5), (name, np.round(means, 1))


def test_max_shapes_1_draws_one_shape_on_every_image(tmp_path):
    root = generate_toy_shapes(tmp_path, num_train=8, num_val=0, max_shapes=1)
    for path in sorted(root.glob('ann_dir/train/*.png')):
        label = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert len(set(np.unique(label).tolist()) - {0, IGNORE_INDEX}) == 1, path.name


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


class _Fraction:
    """Draws every uniform value at the same fraction of its range, so that a shape's
    centre, size and angle are known: ``low + fraction * (high - low)``."""

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def uniform(self, low=0.0, high=1.0, size=None):
        value = low + self.fraction * (high - low)
        return value if size is None else np.full(size, value)


#: (height, width) of the canvas of the shape tests: shorter side 600, longer 800.
CANVAS = (600, 800)


def _draw(class_id: int, fraction: float) -> np.ndarray:
    mask = np.zeros(CANVAS, dtype=np.uint8)
    _draw_shape(_Fraction(fraction), mask, class_id)
    return mask.astype(bool)


def _inside(corners: np.ndarray, grow: float) -> np.ndarray:
    """The pixels whose centre lies in the convex polygon ``corners`` ((x, y) rows, in
    either turning order) grown by ``grow`` pixels (shrunk where negative)."""
    ys, xs = np.mgrid[0 : CANVAS[0], 0 : CANVAS[1]]
    centre = corners.mean(0)
    inside = np.ones(CANVAS, dtype=bool)
    for start, end in zip(corners, np.roll(corners, -1, axis=0)):
        normal = np.array([end[1] - start[1], start[0] - end[0]])
        normal /= np.linalg.norm(normal)
        if normal @ (centre - start) > 0:  # point it outwards
            normal = -normal
        inside &= (xs - start[0]) * normal[0] + (ys - start[1]) * normal[1] <= grow
    return inside


def _assert_polygon(mask: np.ndarray, corners: np.ndarray) -> None:
    """``mask`` is the polygon ``corners`` up to 1.5 pixels at its border (the drawn
    corners are rounded to whole pixels, the border pixels drawn)."""
    assert mask[_inside(corners, -1.5)].all(), 'pixels well inside the polygon are missing'
    assert not mask[~_inside(corners, 1.5)].any(), 'pixels well outside the polygon are drawn'


def _rectangle(centre, length: float, width: float, radians: float) -> np.ndarray:
    """The corners of a ``length`` x ``width`` rectangle whose length runs at ``radians``
    from the x axis towards y (image rows, down)."""
    along = np.array([np.cos(radians), np.sin(radians)]) * length / 2
    across = np.array([-np.sin(radians), np.cos(radians)]) * width / 2
    return np.array(centre) + np.array(
        [along + across, along - across, -along - across, -along + across]
    )


# The documented geometry: shorter side 600 px, longer 800, centre at the fraction of
# each side; every size at the same fraction of its documented range.


@pytest.mark.parametrize('fraction', [0.3, 0.6])
def test_a_disc_has_a_radius_of_6_to_20_percent_of_the_shorter_side(fraction):
    radius = (0.06 + 0.14 * fraction) * 600
    ys, xs = np.mgrid[0 : CANVAS[0], 0 : CANVAS[1]]
    distance = np.hypot(xs - fraction * 800, ys - fraction * 600)
    mask = _draw(1, fraction)
    assert mask[distance <= radius - 1].all()
    assert not mask[distance > radius + 1].any()


@pytest.mark.parametrize('fraction', [0.3, 0.6, 0.9])
def test_a_box_has_sides_of_12_to_40_percent_of_the_shorter_side_rotated_0_to_90_degrees(
    fraction,
):
    side = (0.12 + 0.28 * fraction) * 600  # both sides at the same fraction: a square
    corners = _rectangle((fraction * 800, fraction * 600), side, side, np.radians(90 * fraction))
    _assert_polygon(_draw(2, fraction), corners)


@pytest.mark.parametrize('fraction', [0.3, 0.6])
def test_a_triangle_has_a_radius_of_10_to_25_percent_and_corners_120_degrees_apart(fraction):
    """Each corner's angle is jittered by up to 0.35 rad (20 degrees); at one fraction
    all three move alike, so the triangle is equilateral."""
    radius = (0.1 + 0.15 * fraction) * 600
    jitter = -0.35 + 0.7 * fraction
    angles = 2 * np.pi * fraction + np.radians([0, 120, 240]) + jitter
    corners = np.array([fraction * 800, fraction * 600]) + radius * np.stack(
        [np.cos(angles), np.sin(angles)], 1
    )
    _assert_polygon(_draw(3, fraction), corners)


@pytest.mark.parametrize('fraction', [0.3, 0.6])
def test_a_bar_is_30_to_80_percent_of_the_longer_side_long_and_2_to_4_px_wide(fraction):
    length = (0.3 + 0.5 * fraction) * 800
    thickness = 2 + 2 * fraction
    corners = _rectangle((fraction * 800, fraction * 600), length, thickness, np.pi * fraction)
    mask = _draw(4, fraction)
    _assert_polygon(mask, corners)
    # A strip a few pixels wide: its area says its width, to a tenth of a pixel.
    assert mask.sum() / length == pytest.approx(thickness, abs=0.1)


class _Rigged:
    """A generator whose draws from the listed ranges return the listed values in turn
    (``{(low, high): [value, ...]}``); every other draw is ``numpy``'s, from ``seed``."""

    def __init__(self, seed: int, draws: dict) -> None:
        self.generator = np.random.default_rng(seed)
        self.draws = {key: list(values) for key, values in draws.items()}

    def _rigged(self, low, high):
        return self.draws.get((low, high))

    def uniform(self, low=0.0, high=1.0, size=None):
        queue = self._rigged(low, high)
        return queue.pop(0) if queue else self.generator.uniform(low, high, size)

    def integers(self, low, high=None, size=None):
        queue = self._rigged(low, high)
        return queue.pop(0) if queue else self.generator.integers(low, high, size)

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self.generator.normal(loc, scale, size)

    def random(self, size=None):
        return self.generator.random(size)


def test_a_shape_that_misses_the_image_leaves_the_others_drawn():
    """On a small image a shape can miss every pixel: here a triangle of the smallest
    radius (10% of 32 px) centred just past the last pixel, its widest gap between
    corners (150 degrees) facing the image. The disc drawn after it is still drawn."""
    rng = _Rigged(
        0,
        {
            (1, 3): [2],  # two shapes (max_shapes=2)
            (1, len(TOY_SHAPES_CLASSES)): [3, 1],  # a triangle, then a disc
            (0, 32): [31.95, 31.95, 16.0, 16.0],  # their centres (x, y)
            (0.1, 0.25): [0.1],  # the triangle's radius: 3.2 px
            (0, 2 * np.pi): [np.radians(165)],  # corners at 150, 300 and 45 degrees
            (-0.35, 0.35): [np.radians([-15, 15, 0])],
        },
    )
    _, label = _draw_sample(rng, 32, 32, max_shapes=2)
    assert not (label == 3).any()  # the triangle missed the image
    disc = label == 1
    assert disc[16, 16] and 20 <= disc.sum() <= 400  # radius 3 to 6 px
    assert not rng.draws[(0, 32)]  # both shapes were placed


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
