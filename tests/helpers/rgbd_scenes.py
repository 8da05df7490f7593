"""Synthetic RGB-D scenes with known geometry: a room seen by a pinhole camera.

World coordinates: x right, y down (along gravity), z forward (horizontal); the camera
at the origin, pitched down by ``pitch`` degrees about its x axis. The room: a floor
``camera_height`` below the camera, a ceiling ``ceiling_above`` above it, a back wall
at ``z = wall_distance`` and a left wall at ``x = -side_distance`` (all mm). Each
pixel's depth (distance along the optical axis) is that of the first surface its ray
meets; the true height above the floor, the surface hit and the gravity direction in
camera coordinates come with it, for checking HHA channels against the geometry.
"""

from dataclasses import dataclass

import numpy as np

FLOOR, CEILING, BACK_WALL, LEFT_WALL = 0, 1, 2, 3


@dataclass
class Scene:
    """A rendered scene.

    Attributes:
        depth_mm: ``(H, W)`` float64, depth along the optical axis.
        surface: ``(H, W)`` int, which surface each pixel sees (``FLOOR`` ...).
        height_mm: ``(H, W)`` height of each pixel's point above the floor.
        gravity: ``(3,)`` the down direction in camera coordinates.
        intrinsics: ``dict(fx, fy, cx, cy)``.
    """

    depth_mm: np.ndarray
    surface: np.ndarray
    height_mm: np.ndarray
    gravity: np.ndarray
    intrinsics: dict


def render_room(
    shape=(96, 128),
    focal=100.0,
    pitch=5.0,
    camera_height=1200.0,
    ceiling_above=1000.0,
    wall_distance=5000.0,
    side_distance=1500.0,
) -> Scene:
    """Render the room of the module's docstring (see :class:`Scene`)."""
    height, width = shape
    intrinsics = dict(fx=focal, fy=focal, cx=(width - 1) / 2, cy=(height - 1) / 2)
    angle = np.radians(pitch)
    # Columns: the camera's x (right), y (image down) and z (optical axis) in world.
    rotation = np.array(
        [[1.0, 0.0, 0.0], [0.0, np.cos(angle), np.sin(angle)], [0.0, -np.sin(angle), np.cos(angle)]]
    )
    rows, cols = np.indices(shape, dtype=np.float64)
    rays = np.stack(
        [
            (cols - intrinsics['cx']) / focal,
            (rows - intrinsics['cy']) / focal,
            np.ones(shape),
        ],
        axis=-1,
    )  # camera coordinates, z = 1: the ray parameter is the depth
    world = rays @ rotation.T
    with np.errstate(divide='ignore', invalid='ignore'):
        hits = np.stack(
            [
                np.where(world[..., 1] > 0, camera_height / world[..., 1], np.inf),
                np.where(world[..., 1] < 0, -ceiling_above / world[..., 1], np.inf),
                np.where(world[..., 2] > 0, wall_distance / world[..., 2], np.inf),
                np.where(world[..., 0] < 0, -side_distance / world[..., 0], np.inf),
            ],
            axis=-1,
        )
    surface = hits.argmin(axis=-1)
    depth = hits.min(axis=-1)
    points = world * depth[..., None]
    return Scene(
        depth_mm=depth,
        surface=surface,
        height_mm=camera_height - points[..., 1],
        gravity=rotation.T @ np.array([0.0, 1.0, 0.0]),
        intrinsics=intrinsics,
    )


def interior(mask: np.ndarray, radius: int) -> np.ndarray:
    """The pixels of ``mask`` whose whole ``(2 * radius + 1)^2`` window is in it."""
    padded = np.pad(mask, radius, constant_values=False)
    height, width = mask.shape
    inside = np.ones_like(mask)
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            inside &= padded[dy : dy + height, dx : dx + width]
    return inside
