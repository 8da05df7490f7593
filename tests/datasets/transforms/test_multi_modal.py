"""LoadMultiModalImage and ColourOnly: channel order and values of the loaded image,
mmseg's geometric transforms on 4- and 6-channel images, photometric ones on colour."""

import numpy as np
import pytest
from mmseg.registry import TRANSFORMS
from PIL import Image

from mmseg_fcn_skip.datasets.transforms import ColourOnly, LoadMultiModalImage
from mmseg_fcn_skip.datasets.transforms.multi_modal import (
    LOG_DEPTH_MEAN,
    log_depth,
    sibling_path,
)

SHAPE = (12, 17)


@pytest.fixture()
def sample(tmp_path):
    """A colour image, its HHA image and its 16-bit depth map (mm) as PNG files."""
    rng = np.random.default_rng(0)
    colour = rng.integers(0, 256, (*SHAPE, 3), dtype=np.uint8)
    hha = rng.integers(0, 256, (*SHAPE, 3), dtype=np.uint8)
    depth = rng.integers(500, 10000, SHAPE).astype(np.uint16)
    depth[0, :3] = 0  # missing
    paths = dict(img=tmp_path / 'img_1.png', hha=tmp_path / 'hha.png', depth=tmp_path / 'd.png')
    Image.fromarray(colour).save(paths['img'])  # stored RGB
    Image.fromarray(hha).save(paths['hha'])
    Image.fromarray(depth).save(paths['depth'])
    assert Image.open(paths['depth']).mode.startswith('I;16')
    results = dict(
        img_path=str(paths['img']),
        modality_paths=dict(hha=str(paths['hha']), depth=str(paths['depth'])),
    )
    return results, colour, hha, depth


def test_colour_hha_is_colour_bgr_then_hha_as_stored(sample):
    results, colour, hha, _ = sample
    loaded = LoadMultiModalImage(modalities=('hha',))(dict(results))
    image = loaded['img']
    assert image.shape == (*SHAPE, 6) and image.dtype == np.uint8
    assert np.array_equal(image[..., :3], colour[..., ::-1])
    assert np.array_equal(image[..., 3:], hha)
    assert loaded['img_shape'] == SHAPE and loaded['ori_shape'] == SHAPE


def test_colour_depth_is_colour_bgr_then_log_depth_in_mm(sample):
    results, colour, _, depth = sample
    image = LoadMultiModalImage(modalities=('depth',))(dict(results))['img']
    assert image.shape == (*SHAPE, 4) and image.dtype == np.float32
    assert np.array_equal(image[..., :3], colour[..., ::-1].astype(np.float32))
    valid = depth > 0
    np.testing.assert_allclose(image[..., 3][valid], np.log(depth[valid].astype(float)), rtol=1e-6)
    # A missing pixel is the channel mean (0 once the preprocessor subtracts it).
    assert np.all(image[0, :3, 3] == np.float32(LOG_DEPTH_MEAN))
    assert np.isfinite(image).all()


def test_several_modalities_come_in_the_order_given(sample):
    results, colour, hha, depth = sample
    image = LoadMultiModalImage(modalities=('depth', 'hha'))(dict(results))['img']
    assert image.shape == (*SHAPE, 7)
    np.testing.assert_allclose(image[1:, :, 3], np.log(depth[1:].astype(float)), rtol=1e-6)
    assert np.array_equal(image[..., 4:], hha.astype(np.float32))


def test_depth_scale_converts_the_stored_units_to_mm(sample):
    results, _, _, depth = sample
    image = LoadMultiModalImage(modalities=('depth',), depth_scale=0.25)(dict(results))['img']
    np.testing.assert_allclose(image[1:, :, 3], np.log(depth[1:] * 0.25), rtol=1e-6)


def test_log_depth_of_missing_pixels():
    out = log_depth(np.array([[0, 1000]], dtype=np.uint16), missing_value=-1.0)
    assert out.shape == (1, 2, 1)
    assert out[0, 0, 0] == -1.0 and out[0, 1, 0] == pytest.approx(np.log(1000))


def test_a_modality_of_another_size_names_both_files_and_sizes(sample, tmp_path):
    results, *_ = sample
    small = tmp_path / 'small.png'
    Image.fromarray(np.zeros((5, 6, 3), np.uint8)).save(small)
    results['modality_paths']['hha'] = str(small)
    with pytest.raises(ValueError) as error:
        LoadMultiModalImage(modalities=('hha',))(results)
    message = str(error.value)
    assert str(small) in message and results['img_path'] in message
    assert '5x6' in message and '12x17' in message


def test_a_sample_without_the_modality_says_how_to_name_it(sample):
    results, *_ = sample
    del results['modality_paths']['hha']
    with pytest.raises(ValueError, match=r'has no hha file.*modalities=dict\(hha='):
        LoadMultiModalImage(modalities=('hha',))(results)


def test_sibling_path_is_the_folder_next_to_the_image_folder():
    assert sibling_path('data/nyudv2/images/img_5001.png', 'hha') == 'data/nyudv2/hha/img_5001.png'
    assert sibling_path('rgb/a.b.jpg', 'depth') == 'depth/a.b.png'
    assert sibling_path('x/rgb/a.jpg', '/srv/hha', '.tif') == '/srv/hha/a.tif'


def test_without_modality_paths_the_sibling_files_are_read(tmp_path):
    rng = np.random.default_rng(3)
    colour = rng.integers(0, 256, (*SHAPE, 3), dtype=np.uint8)
    hha = rng.integers(0, 256, (*SHAPE, 3), dtype=np.uint8)
    for folder, array in (('images', colour), ('hha', hha)):
        (tmp_path / folder).mkdir()
        Image.fromarray(array).save(tmp_path / folder / 'img_7.png')
    results = dict(img_path=str(tmp_path / 'images' / 'img_7.png'))
    image = LoadMultiModalImage(modalities=('hha',))(results)['img']
    assert np.array_equal(image[..., :3], colour[..., ::-1])
    assert np.array_equal(image[..., 3:], hha)


def test_a_missing_sibling_file_is_named_with_the_fix(tmp_path):
    (tmp_path / 'images').mkdir()
    Image.fromarray(np.zeros((*SHAPE, 3), np.uint8)).save(tmp_path / 'images' / 'img_7.png')
    results = dict(img_path=str(tmp_path / 'images' / 'img_7.png'))
    missing = tmp_path / 'depth' / 'img_7.png'
    with pytest.raises(FileNotFoundError) as error:
        LoadMultiModalImage(modalities=('depth',))(results)
    assert str(error.value).startswith(f'depth file {missing} of {results["img_path"]} is missing')
    assert "modality_paths=dict(depth='<file>')" in str(error.value)


def test_a_colour_image_as_depth_is_refused(sample):
    results, *_ = sample
    results['modality_paths']['depth'] = results['img_path']
    with pytest.raises(ValueError, match='single-channel'):
        LoadMultiModalImage(modalities=('depth',))(results)


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(modalities=('rgb',)), "'hha', 'depth'"),
        (dict(modalities=()), 'distinct names'),
        (dict(modalities=('hha', 'hha')), 'distinct names'),
        (dict(color_type='grayscale'), "leave color_type='color'"),
        (dict(depth_scale=0), 'depth_scale=0 must be positive'),
    ],
)
def test_bad_arguments_name_the_fix(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LoadMultiModalImage(**kwargs)


def test_channels_counts_colour_and_modalities():
    assert LoadMultiModalImage(modalities=('hha',)).channels == 6
    assert LoadMultiModalImage(modalities=('depth',)).channels == 4


def _marked(channels, dtype):
    """An image whose channel c is a random pattern plus c x 1000 (float) or c x 20
    (uint8): a transform that moves the channels apart changes their differences."""
    rng = np.random.default_rng(1)
    base = rng.integers(0, 100, (24, 30)).astype(np.float64)
    step = 1000.0 if dtype == np.float32 else 20.0
    return np.stack([base + c * step for c in range(channels)], axis=-1).astype(dtype)


def _apply(transform, image, seed=0):
    label = (np.arange(image.shape[0] * image.shape[1]).reshape(image.shape[:2]) % 7).astype(
        np.uint8
    )
    results = dict(
        img=image.copy(),
        gt_seg_map=label,
        seg_fields=['gt_seg_map'],
        img_shape=image.shape[:2],
        ori_shape=image.shape[:2],
    )
    np.random.seed(seed)
    return TRANSFORMS.build(transform)(results)


GEOMETRIC = [
    dict(type='RandomResize', scale=(60, 48), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(10, 13), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=1.0, direction='horizontal'),
    dict(type='RandomFlip', prob=1.0, direction='vertical'),
]


@pytest.mark.parametrize('channels, dtype', [(4, np.float32), (6, np.uint8)])
@pytest.mark.parametrize('transform', GEOMETRIC, ids=['resize', 'crop', 'hflip', 'vflip'])
def test_geometric_transforms_move_every_channel_alike(channels, dtype, transform):
    """Each channel of the transformed image is that channel transformed alone (the
    same random draws), and the label map moves with them."""
    image = _marked(channels, dtype)
    out = _apply(transform, image)
    moved = out['img']
    assert moved.ndim == 3 and moved.shape[2] == channels and moved.dtype == dtype
    assert moved.shape[:2] == out['gt_seg_map'].shape
    assert moved.shape != image.shape or transform['type'] == 'RandomFlip'
    for c in range(channels):
        alone = _apply(transform, np.ascontiguousarray(image[..., c : c + 1]))
        assert np.array_equal(moved[..., c], np.atleast_3d(alone['img'])[..., 0]), c
        assert np.array_equal(out['gt_seg_map'], alone['gt_seg_map'])
    if transform['type'] == 'RandomFlip':
        axis = 1 if transform['direction'] == 'horizontal' else 0
        assert np.array_equal(moved, np.flip(image, axis))


def test_the_pipeline_pad_takes_4_channels_and_more_pad_in_the_preprocessor():
    """mmcv's Pad pads every channel of a colour-depth image; for more than 4 channels
    cv2 refuses its per-channel fill value, so colour-HHA pads in the data
    preprocessor (MultiModalDataPreProcessor's size / size_divisor)."""
    pad = dict(type='Pad', size=(40, 32), pad_val=dict(img=0, seg=255))  # (w, h)
    out = _apply(pad, _marked(4, np.float32))
    assert out['img'].shape == (32, 40, 4)
    assert np.all(out['img'][24:] == 0) and np.all(out['img'][:, 30:] == 0)
    assert np.array_equal(out['img'][:24, :30], _marked(4, np.float32))
    with pytest.raises(Exception, match='longer than 4'):
        _apply(pad, _marked(6, np.uint8))


def test_colour_only_distorts_the_colour_and_leaves_the_rest():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (16, 20, 6)).astype(np.uint8)
    wrapped = ColourOnly(transform=dict(type='PhotoMetricDistortion', brightness_delta=64))
    np.random.seed(3)
    out = wrapped(dict(img=image.copy()))['img']
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out[..., 3:], image[..., 3:])
    assert not np.array_equal(out[..., :3], image[..., :3])
    np.random.seed(3)  # the same draws on the colour image alone
    alone = TRANSFORMS.build(dict(type='PhotoMetricDistortion', brightness_delta=64))(
        dict(img=image[..., :3].copy())
    )['img']
    assert np.array_equal(out[..., :3], alone)


def test_colour_only_keeps_a_float_depth_channel_exactly():
    image = np.concatenate(
        [np.full((8, 9, 3), 100, np.float32), np.full((8, 9, 1), 8.123456, np.float32)], axis=2
    )
    np.random.seed(0)
    out = ColourOnly(transform=dict(type='PhotoMetricDistortion'))(dict(img=image.copy()))['img']
    assert out.dtype == np.float32
    assert np.array_equal(out[..., 3], image[..., 3])
    assert np.array_equal(out[..., :3], np.rint(out[..., :3]))  # the colour as uint8 values


def test_colour_only_refuses_geometric_transforms():
    wrapped = ColourOnly(transform=dict(type='RandomFlip', prob=1.0))
    assert wrapped(dict(img=np.zeros((4, 5, 6), np.uint8), img_shape=(4, 5))) is not None
    resize = ColourOnly(transform=dict(type='Resize', scale=(10, 8), keep_ratio=False))
    with pytest.raises(ValueError, match='photometric transforms only'):
        resize(dict(img=np.zeros((4, 5, 6), np.uint8), img_shape=(4, 5)))
