"""tools/dataset_converters/depth_to_hha.py: HHA PNGs from depth PNGs, read back by
the HHA pipeline in the order they are stored."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmseg_fcn_skip.datasets.transforms import LoadMultiModalImage, depth_to_hha
from tests.helpers.rgbd_scenes import render_room

REPO = Path(__file__).resolve().parents[2]


def tool():
    path = REPO / 'tools' / 'dataset_converters' / 'depth_to_hha.py'
    spec = importlib.util.spec_from_file_location('depth_to_hha_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_written_hha_images_are_read_back_as_computed(tmp_path):
    scene = render_room(shape=(48, 64), focal=50.0)
    depth = np.rint(scene.depth_mm).astype(np.uint16)
    (tmp_path / 'depth').mkdir()
    Image.fromarray(depth).save(tmp_path / 'depth' / 'img_1.png')
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(tmp_path / 'img_1.png')
    k = scene.intrinsics
    intrinsics = [str(k[name]) for name in ('fx', 'fy', 'cx', 'cy')]
    tool().main([str(tmp_path / 'depth'), str(tmp_path / 'hha'), '--intrinsics', *intrinsics])
    expected = depth_to_hha(depth, scene.intrinsics)
    assert np.array_equal(np.array(Image.open(tmp_path / 'hha' / 'img_1.png')), expected)
    results = dict(
        img_path=str(tmp_path / 'img_1.png'),
        modality_paths=dict(hha=str(tmp_path / 'hha' / 'img_1.png')),
    )
    loaded = LoadMultiModalImage(modalities=('hha',))(results)['img']
    assert np.array_equal(loaded[..., 3:], expected)  # disparity, height, angle


def test_depth_scale_and_gravity_are_passed_on(tmp_path):
    scene = render_room(shape=(48, 64), focal=50.0, pitch=10.0)
    (tmp_path / 'depth').mkdir()
    Image.fromarray(np.rint(scene.depth_mm / 2).astype(np.uint16)).save(
        tmp_path / 'depth' / 'a.png'
    )
    k = scene.intrinsics
    args = [str(tmp_path / 'depth'), str(tmp_path / 'hha'), '--depth-scale', '2']
    args += ['--intrinsics', *(str(k[n]) for n in ('fx', 'fy', 'cx', 'cy'))]
    args += ['--gravity', *(str(g) for g in scene.gravity)]
    tool().main(args)
    expected = depth_to_hha(
        np.rint(scene.depth_mm / 2) * 2, scene.intrinsics, gravity=scene.gravity
    )
    assert np.array_equal(np.array(Image.open(tmp_path / 'hha' / 'a.png')), expected)


def test_a_colour_image_as_depth_is_named(tmp_path):
    (tmp_path / 'depth').mkdir()
    Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(tmp_path / 'depth' / 'x.png')
    with pytest.raises(ValueError, match=r"x.png is a 'RGB' image"):
        tool().main(
            [str(tmp_path / 'depth'), str(tmp_path / 'hha'), '--intrinsics', '1', '1', '0', '0']
        )
