"""HHA from depth, checked channel by channel against synthetic rooms of known
geometry (floor, ceiling, walls, camera height and tilt)."""

import numpy as np
import pytest
from PIL import Image

from mmseg_fcn_skip.datasets.transforms import DepthToHHA, LoadMultiModalImage, depth_to_hha
from mmseg_fcn_skip.datasets.transforms.hha import (
    NORMAL_RADIUS,
    camera_intrinsics,
    estimate_gravity,
    point_cloud,
    surface_normals,
)
from tests.helpers.rgbd_scenes import BACK_WALL, CEILING, FLOOR, LEFT_WALL, interior, render_room

DISPARITY, HEIGHT, ANGLE = 0, 1, 2


def stored_depth(scene):
    """The depth as a 16-bit PNG in mm holds it: rounded to whole millimetres."""
    return np.rint(scene.depth_mm).astype(np.uint16)


def to_uint8(values):
    return np.clip(np.floor(values + 0.5), 0, 255)


@pytest.fixture(scope='module')
def room():
    scene = render_room(pitch=5.0)
    return scene, depth_to_hha(stored_depth(scene), scene.intrinsics)


def test_the_scene_shows_every_surface(room):
    scene, _ = room
    assert set(np.unique(scene.surface)) == {FLOOR, CEILING, BACK_WALL, LEFT_WALL}


def test_disparity_is_the_released_scaling_of_inverse_depth(room):
    scene, hha = room
    depth = stored_depth(scene).astype(np.float64)
    # 31000 / depth in cm (at least 100 cm), in 0..255.
    expected = to_uint8(310000.0 / np.maximum(depth, 1000.0))
    assert np.array_equal(hha[..., DISPARITY], expected)
    far, near = depth.argmax(), depth.argmin()
    assert hha[..., DISPARITY].flat[far] < hha[..., DISPARITY].flat[near]


def test_estimated_gravity_is_the_camera_tilt():
    for pitch in (0.0, 5.0, 20.0):
        scene = render_room(pitch=pitch)
        depth = stored_depth(scene).astype(np.float64)
        normals = surface_normals(point_cloud(depth, scene.intrinsics), depth > 0, 10)
        gravity = estimate_gravity(normals)
        error = np.degrees(np.arccos(np.clip(gravity @ scene.gravity, -1, 1)))
        assert error < 0.5, (pitch, gravity, scene.gravity)


def test_height_is_the_height_above_the_floor_in_cm(room):
    scene, hha = room
    expected = to_uint8(scene.height_mm / 10.0)
    floor = scene.surface == FLOOR
    assert hha[..., HEIGHT][floor].max() <= 2  # the floor is at 0
    # With the estimated gravity, within 2 cm everywhere.
    assert np.abs(hha[..., HEIGHT].astype(int) - expected).max() <= 2
    # With gravity given, within the rounding of the depth to millimetres.
    given = depth_to_hha(stored_depth(scene), scene.intrinsics, gravity=scene.gravity)
    assert np.abs(given[..., HEIGHT].astype(int) - expected).max() <= 1


def test_height_rises_linearly_up_a_wall_seen_level():
    scene = render_room(pitch=0.0, wall_distance=5000.0)
    hha = depth_to_hha(stored_depth(scene), scene.intrinsics, gravity=scene.gravity)
    column = scene.depth_mm.shape[1] // 2 + 10
    rows = np.flatnonzero(scene.surface[:, column] == BACK_WALL)
    heights = hha[rows, column, HEIGHT].astype(float)
    # A level camera: one row up is 5000 mm / 100 px = 5 cm higher on the wall.
    slope = np.polyfit(rows, heights, 1)[0]
    assert slope == pytest.approx(-5.0, abs=0.05)
    assert heights[-1] == pytest.approx((1200 - (rows[-1] - 47.5) * 50) / 10, abs=1)


def test_angle_with_gravity_by_surface(room):
    scene, hha = room
    angle = hha[..., ANGLE]
    # Stored as angle + 38: floor 0 deg, walls 90, ceiling 180, away from edges.
    for surface, degrees in ((FLOOR, 0), (BACK_WALL, 90), (LEFT_WALL, 90), (CEILING, 180)):
        inside = interior(scene.surface == surface, NORMAL_RADIUS)
        assert inside.sum() > 100
        assert np.abs(angle[inside].astype(int) - (degrees + 38)).max() <= 1, surface


def test_the_angle_is_that_of_the_plane_fitted_to_each_pixels_7x7_window():
    """The release's window for the angle channel: (2r + 1)^2 pixels, r = 3. Two planes
    meet at row 20 in a fold away from the camera, each at 45 degrees to the line of
    sight: the upper one at 135 degrees to gravity, the lower one at 45. A pixel 3 or
    more rows from the fold sees one plane in its window and reads its angle; the
    windows of the fold's row and the 2 rows on either side of it hold both planes."""
    rows = np.arange(41)[:, None].repeat(60, axis=1)
    depth = 2000.0 / (1 + np.abs(rows - 20) / 100.0)
    intrinsics = dict(fx=100.0, fy=100.0, cx=29.5, cy=20.0)
    angle = depth_to_hha(depth, intrinsics, gravity=(0, 1, 0))[..., ANGLE].astype(int)
    assert (angle[:18] == 135 + 38).all() and (angle[23:] == 45 + 38).all()
    mixed = angle[18:23]
    assert (np.abs(mixed - (135 + 38)) > 3).all() and (np.abs(mixed - (45 + 38)) > 3).all()


def test_a_pitched_camera_changes_nothing_but_the_gravity_found():
    level = render_room(pitch=0.0)
    tilted = render_room(pitch=20.0)
    for scene in (level, tilted):
        hha = depth_to_hha(stored_depth(scene), scene.intrinsics)
        floor = interior(scene.surface == FLOOR, NORMAL_RADIUS)
        assert np.abs(hha[..., ANGLE][floor].astype(int) - 38).max() <= 1
        # Gravity found within 0.5 degrees: within 3 cm at the far end (5 m).
        assert hha[..., HEIGHT][scene.surface == FLOOR].max() <= 3


def test_missing_depth_is_zero_in_every_channel(room):
    scene, _ = room
    depth = stored_depth(scene)
    depth[10:20, 30:50] = 0
    hha = depth_to_hha(depth, scene.intrinsics, gravity=scene.gravity)
    assert not hha[10:20, 30:50].any()
    assert hha[..., DISPARITY][depth > 0].min() > 0  # every other pixel has a value


def test_a_camera_close_to_the_floor_takes_the_ground_130_cm_below():
    scene = render_room(pitch=5.0, camera_height=600.0)
    hha = depth_to_hha(stored_depth(scene), scene.intrinsics, gravity=scene.gravity)
    # The lowest point is 60 cm below the camera (< 90): the release's rule puts the
    # ground 130 cm below, so the floor reads 70 cm.
    floor = scene.surface == FLOOR
    assert np.abs(hha[..., HEIGHT][floor].astype(int) - 70).max() <= 1


@pytest.mark.parametrize(
    'intrinsics',
    [
        dict(fx=100, fy=90, cx=5, cy=6),
        (100, 90, 5, 6),
        [[100, 0, 5], [0, 90, 6], [0, 0, 1]],
    ],
)
def test_intrinsics_in_three_forms(intrinsics):
    assert camera_intrinsics(intrinsics) == (100.0, 90.0, 5.0, 6.0)


@pytest.mark.parametrize('intrinsics', [dict(fx=100, fy=90), (1, 2, 3), (0, 90, 5, 6)])
def test_bad_intrinsics_name_the_forms(intrinsics):
    with pytest.raises(ValueError, match=r'dict\(fx=\.\.\., fy=\.\.\., cx=\.\.\., cy=\.\.\.\)'):
        camera_intrinsics(intrinsics)


@pytest.mark.parametrize(
    'depth, match',
    [
        (np.zeros((4, 5, 3)), 'one \\(H, W\\) map'),
        (np.zeros((4, 5)), 'at least one valid pixel'),
        (-np.ones((4, 5)), 'mm >= 0'),
    ],
)
def test_bad_depth_maps_say_what_is_expected(depth, match):
    with pytest.raises(ValueError, match=match):
        depth_to_hha(depth, (10, 10, 2, 2))


def test_the_transform_feeds_the_hha_channels_after_the_colour(room, tmp_path):
    scene, expected = room
    colour = np.random.default_rng(0).integers(0, 256, (*scene.depth_mm.shape, 3), np.uint8)
    Image.fromarray(colour).save(tmp_path / 'img_1.png')
    Image.fromarray(stored_depth(scene)).save(tmp_path / 'depth.png')
    results = dict(
        img_path=str(tmp_path / 'img_1.png'), modality_paths=dict(depth=str(tmp_path / 'depth.png'))
    )
    results = DepthToHHA(intrinsics=scene.intrinsics)(results)
    results = LoadMultiModalImage(modalities=('hha',))(results)
    image = results['img']
    assert image.shape == (*scene.depth_mm.shape, 6) and image.dtype == np.uint8
    assert np.array_equal(image[..., :3], colour[..., ::-1])  # colour as BGR
    assert np.array_equal(image[..., 3:], expected)  # disparity, height, angle


def test_without_modality_paths_the_transform_reads_the_sibling_depth(room, tmp_path):
    scene, expected = room
    for folder in ('images', 'depth'):
        (tmp_path / folder).mkdir()
    Image.fromarray(stored_depth(scene)).save(tmp_path / 'depth' / 'img_1.png')
    results = dict(img_path=str(tmp_path / 'images' / 'img_1.png'))
    computed = DepthToHHA(intrinsics=scene.intrinsics)(results)['modality_images']['hha']
    assert np.array_equal(computed, expected)
    (tmp_path / 'depth' / 'img_1.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'depth file \S+/depth/img_1.png of .* missing'):
        DepthToHHA(intrinsics=scene.intrinsics)(results)


def test_the_transform_names_a_missing_depth_file():
    with pytest.raises(ValueError, match='has no depth file.*modalities=dict\\(depth='):
        DepthToHHA(intrinsics=(1, 1, 0, 0))(dict(img_path='a.png', modality_paths={}))
