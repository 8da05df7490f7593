"""HHA from depth: horizontal disparity, height above ground, angle with gravity.

The encoding of Gupta, Girshick, Arbelaez and Malik, "Learning Rich Features from
RGB-D Images for Object Detection and Segmentation" (ECCV 2014), in which NYUDv2's
HHA images are released and which the FCN reference's HHA nets take. For the
released nets to see what they were trained on, the scalings are those of the
authors' release (``saveHHA.m`` and ``processDepthImage.m`` of s-gupta/rcnn-depth):

============ =================================================== ==================
channel      value                                               0..255 from
============ =================================================== ==================
0 disparity  ``310000 / max(depth_mm, 1000)`` (31000 over the     inverse depth; 255
             depth in cm, depth below 1 m taken as 1 m)           up to 1.22 m
1 height     height above the lowest point in the gravity        cm, 0..2.55 m
             direction, in cm; if that point is less than 90 cm
             below the camera, the ground is taken 130 cm below
2 angle      angle between the surface normal and gravity, in     floor 38, wall
             degrees, plus 38 (``angle + 128 - 90``)              128, ceiling 218
============ =================================================== ==================

Each value is rounded (half up, as MATLAB's ``uint8``) and clipped to 0..255. The
channels are in this order in the released PNGs (and in :func:`depth_to_hha`'s
output): mmcv reads the PNGs reversed, ``LoadMultiModalImage`` restores this order.

Geometry, as in the paper: the point cloud from the depth and the camera
intrinsics (camera coordinates: x right, y down, z forward, mm); a surface normal
at every pixel from a plane fitted to the points of the ``(2r + 1)^2`` window
around it (r = 3 for the angle, 10 for estimating gravity, as the release), oriented
away from the camera (a floor below the camera has a normal pointing down, along
gravity); gravity estimated by the paper's iteration: starting from the image's
down direction, the normals within 45 degrees of parallel to it (floor, ceiling)
and those within 45 degrees of perpendicular (walls) are collected, and the new
direction is the one most parallel to the first and most perpendicular to the
second (the eigenvector of the smallest eigenvalue of ``sum_walls n n^T -
sum_floors n n^T``); 5 iterations at 45 degrees, then 5 at 15. The plane fit is
the least-squares plane of each window (principal axes of its points), where the
release fits ``1/z`` linearly in ``x/z, y/z``; both give the plane through a flat
window's points.

Pixels without depth (0) are 0 in all three channels (the release's missing angles
are also 0; its depth maps are filled, so it has none).
"""

from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmseg.registry import TRANSFORMS

from .multi_modal import COMPUTED_KEY, sibling_path

#: ``disparity = DISPARITY_SCALE / max(depth_mm, MIN_DEPTH_MM)`` (the release's
#: ``31000 / depth_cm`` with depth clamped to 100 cm at least).
DISPARITY_SCALE = 310000.0
MIN_DEPTH_MM = 1000.0
#: The ground when the lowest point is less than ``GROUND_OUTLIER_MM`` below the
#: camera: ``GROUND_DEFAULT_MM`` below it (the release's -90 cm / -130 cm).
GROUND_OUTLIER_MM = 900.0
GROUND_DEFAULT_MM = 1300.0
#: Millimetres per unit of the height channel (cm).
HEIGHT_UNIT_MM = 10.0
#: Added to the angle in degrees (the release's ``128 - 90``).
ANGLE_OFFSET = 38.0
#: Window radii of the normals for the angle channel and for estimating gravity.
NORMAL_RADIUS = 3
GRAVITY_RADIUS = 10
#: (threshold in degrees, iterations) of the gravity estimation, in turn.
GRAVITY_STEPS = ((45.0, 5), (15.0, 5))
#: Camera coordinates: x right, y down (image rows), z forward.
IMAGE_DOWN = (0.0, 1.0, 0.0)

Intrinsics = Union[Dict[str, float], Sequence[float], Sequence[Sequence[float]]]


def camera_intrinsics(intrinsics: Intrinsics) -> Tuple[float, float, float, float]:
    """``(fx, fy, cx, cy)`` from a dict with those keys, 4 numbers in that order, or a
    3x3 camera matrix; in pixels, with the first pixel's centre at (0, 0) (OpenCV's
    convention).

    Raises:
        ValueError: for anything else, or focal lengths that are not positive.
    """
    try:
        if isinstance(intrinsics, dict):
            values = tuple(float(intrinsics[k]) for k in ('fx', 'fy', 'cx', 'cy'))
        else:
            array = np.asarray(intrinsics, dtype=np.float64)
            if array.shape == (3, 3):
                values = (array[0, 0], array[1, 1], array[0, 2], array[1, 2])
            elif array.shape == (4,):
                values = tuple(array)
            else:
                raise ValueError
    except (KeyError, TypeError, ValueError):
        values = None
    if values is None or not (values[0] > 0 and values[1] > 0):
        raise ValueError(
            f'intrinsics={intrinsics!r}: give the camera of the depth map as '
            'dict(fx=..., fy=..., cx=..., cy=...) (pixels), (fx, fy, cx, cy) or a 3x3 '
            'camera matrix, with positive focal lengths'
        )
    return tuple(float(v) for v in values)


def point_cloud(depth_mm: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """The 3-D point of every pixel, in camera coordinates (x right, y down, z
    forward), millimetres.

    Args:
        depth_mm: ``(H, W)`` depth (distance along the optical axis) in mm.
        intrinsics: See :func:`camera_intrinsics`.

    Returns:
        np.ndarray: ``(H, W, 3)`` float64.
    """
    fx, fy, cx, cy = camera_intrinsics(intrinsics)
    z = np.asarray(depth_mm, dtype=np.float64)
    rows, cols = np.indices(z.shape, dtype=np.float64)
    return np.stack([(cols - cx) * z / fx, (rows - cy) * z / fy, z], axis=-1)


def surface_normals(points: np.ndarray, valid: np.ndarray, radius: int) -> np.ndarray:
    """Unit surface normals from a plane fitted to each pixel's window of points.

    The normal at a pixel is the direction of least spread of the valid points in
    the ``(2 * radius + 1)^2`` window around it, oriented away from the camera
    (``n . p >= 0``).

    Args:
        points: ``(H, W, 3)`` from :func:`point_cloud`.
        valid: ``(H, W)`` bool, the pixels with depth.
        radius: Window radius in pixels.

    Returns:
        np.ndarray: ``(H, W, 3)`` float64; NaN at pixels without depth or with
        fewer than 3 valid points in their window.
    """
    size = (2 * radius + 1,) * 2
    weight = valid.astype(np.float64)

    def window_sum(values: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(values, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)

    masked = np.where(valid[..., None], points, 0.0)
    count = window_sum(weight)
    enough = valid & (count >= 3)
    safe_count = np.maximum(count, 1.0)
    mean = np.stack([window_sum(masked[..., i]) for i in range(3)], axis=-1) / safe_count[..., None]
    covariance = np.empty(points.shape[:2] + (3, 3))
    for i in range(3):
        for j in range(i, 3):
            second = window_sum(masked[..., i] * masked[..., j]) / safe_count
            covariance[..., i, j] = covariance[..., j, i] = second - mean[..., i] * mean[..., j]
    normals = np.full(points.shape, np.nan)
    _, vectors = np.linalg.eigh(covariance[enough])
    chosen = vectors[..., 0]  # eigh sorts the eigenvalues ascending
    facing = np.einsum('ij,ij->i', chosen, points[enough])
    normals[enough] = np.where(facing[:, None] < 0, -chosen, chosen)
    return normals


def estimate_gravity(
    normals: np.ndarray,
    initial: Sequence[float] = IMAGE_DOWN,
    steps: Sequence[Tuple[float, int]] = GRAVITY_STEPS,
) -> np.ndarray:
    """The direction of gravity (down) in camera coordinates, from surface normals.

    Args:
        normals: ``(..., 3)`` unit normals (NaN ones are left out).
        initial: The starting direction (the image's down).
        steps: ``(threshold in degrees, iterations)`` in turn; see the module's
            docstring.

    Returns:
        np.ndarray: ``(3,)`` unit vector, on the side of ``initial``.
    """
    vectors = normals.reshape(-1, 3)
    vectors = vectors[~np.isnan(vectors).any(axis=1)]
    gravity = np.asarray(initial, dtype=np.float64)
    gravity = gravity / np.linalg.norm(gravity)
    for threshold, iterations in steps:
        cos_t, sin_t = np.cos(np.radians(threshold)), np.sin(np.radians(threshold))
        for _ in range(iterations):
            alignment = np.abs(vectors @ gravity)
            floors, walls = vectors[alignment > cos_t], vectors[alignment < sin_t]
            if not (len(floors) or len(walls)):
                break
            _, eigenvectors = np.linalg.eigh(walls.T @ walls - floors.T @ floors)
            new = eigenvectors[:, 0]
            gravity = new if new @ gravity >= 0 else -new
    return gravity


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """Round half up and clip to 0..255, as MATLAB's ``uint8``; NaN becomes 0."""
    rounded = np.floor(np.nan_to_num(values, nan=0.0) + 0.5)
    return np.clip(rounded, 0, 255).astype(np.uint8)


def depth_to_hha(
    depth_mm: np.ndarray,
    intrinsics: Intrinsics,
    gravity: Optional[Sequence[float]] = None,
) -> np.ndarray:
    """The HHA image of a depth map (see the module's docstring for each channel).

    Args:
        depth_mm: ``(H, W)`` depth along the optical axis in millimetres, 0 where
            missing.
        intrinsics: The depth map's camera, see :func:`camera_intrinsics`.
        gravity: The down direction in camera coordinates (x right, y down, z
            forward), if known (e.g. from an accelerometer); None estimates it from
            the surface normals.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8: disparity, height, angle, in the order of
        the released HHA PNGs.

    Raises:
        ValueError: for a depth map that is not 2-D, has negative values or no
            valid pixel, or bad intrinsics or gravity.
    """
    depth = np.asarray(depth_mm, dtype=np.float64)
    if depth.ndim != 2 or depth.size == 0:
        raise ValueError(f'depth_to_hha: depth has shape {depth.shape}; give one (H, W) map')
    valid = depth > 0
    if (depth < 0).any() or not np.isfinite(depth).all() or not valid.any():
        raise ValueError(
            'depth_to_hha: the depth map must hold finite distances in mm >= 0 (0: missing) '
            'with at least one valid pixel'
        )
    points = point_cloud(depth, intrinsics)
    if gravity is None:
        gravity = estimate_gravity(surface_normals(points, valid, GRAVITY_RADIUS))
    else:
        gravity = np.asarray(gravity, dtype=np.float64)
        if gravity.shape != (3,) or not np.linalg.norm(gravity) > 0:
            raise ValueError(
                f'depth_to_hha: gravity={gravity!r} must be a 3-vector (down, in camera '
                'coordinates x right, y down, z forward) or None to estimate it'
            )
        gravity = gravity / np.linalg.norm(gravity)
    normals = surface_normals(points, valid, NORMAL_RADIUS)

    disparity = DISPARITY_SCALE / np.maximum(depth, MIN_DEPTH_MM)
    up = -(points @ gravity)
    ground = up[valid].min()
    if ground > -GROUND_OUTLIER_MM:
        ground = -GROUND_DEFAULT_MM
    height = (up - ground) / HEIGHT_UNIT_MM
    angle = np.degrees(np.arccos(np.clip(normals @ gravity, -1.0, 1.0))) + ANGLE_OFFSET
    hha = np.stack([_to_uint8(disparity), _to_uint8(height), _to_uint8(angle)], axis=-1)
    hha[~valid] = 0
    return hha


@TRANSFORMS.register_module()
class DepthToHHA(BaseTransform):
    """Compute the HHA modality from the sample's depth map.

    Put it before ``LoadMultiModalImage(modalities=('hha',))``, with the dataset
    naming the depth files (``NYUDv2Dataset(modalities=dict(depth='depth'))`` or
    any dataset whose data infos carry ``modality_paths=dict(depth=...)``): the
    HHA image it computes is what ``LoadMultiModalImage`` then concatenates after
    the colour, as if read from a released HHA PNG.

    Required keys: ``modality_paths[modality]`` (a single-channel depth image);
    without ``modality_paths`` (mmseg's ``inference_model``), the depth file next
    to ``img_path`` by NYUDv2's layout (``images/img_5001.png`` ->
    ``depth/img_5001.png``, see ``sibling_path``).

    Added keys: ``modality_images['hha']`` ``(H, W, 3)`` uint8.

    Args:
        intrinsics: The depth camera, see :func:`camera_intrinsics` (e.g. the
            Kinect of NYUDv2 as the NYU toolbox gives it, for its 640x480 frames:
            ``fx=518.86, fy=519.47, cx=325.58, cy=253.74``; shift ``cx, cy`` by the
            crop of cropped frames).
        gravity: The down direction in camera coordinates, or None to estimate it
            per image. Default: None.
        depth_scale: Millimetres per unit of the depth files. Default: 1.
        modality: The name of the depth entry in ``modality_paths``. Default:
            ``'depth'``.
        backend_args: File backend arguments, as for ``LoadImageFromFile``.

    Raises:
        ValueError: at construction for bad intrinsics; at loading for a sample
            without the depth file or a depth file that is not single-channel.
    """

    def __init__(
        self,
        intrinsics: Intrinsics,
        gravity: Optional[Sequence[float]] = None,
        depth_scale: float = 1.0,
        modality: str = 'depth',
        backend_args: Optional[dict] = None,
    ) -> None:
        self.intrinsics = camera_intrinsics(intrinsics)
        self.gravity = None if gravity is None else tuple(float(g) for g in gravity)
        if not depth_scale > 0:
            raise ValueError(
                f'DepthToHHA: depth_scale={depth_scale!r} must be positive (millimetres '
                'per unit of the depth files)'
            )
        self.depth_scale = depth_scale
        self.modality = modality
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        """Read the depth file and add its HHA image to ``modality_images``."""
        if results.get('modality_paths') is None and results.get('img_path'):
            path = sibling_path(results['img_path'], self.modality)
            if not fileio.exists(path, backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'DepthToHHA: {self.modality} file {path} of {results["img_path"]} is '
                    "missing (its sibling by NYUDv2's layout: the folder "
                    f"{self.modality!r} next to the image's folder); put it there or pass "
                    'the sample as dict(img_path=..., '
                    f"modality_paths=dict({self.modality}='<file>'))"
                )
        else:
            path = (results.get('modality_paths') or {}).get(self.modality)
        if path is None:
            raise ValueError(
                f'DepthToHHA: sample {results.get("img_path")} has no {self.modality} file '
                f'(modality_paths={results.get("modality_paths")}); set '
                f"modalities=dict({self.modality}='<depth folder>') on the dataset"
            )
        data = fileio.get(path, backend_args=self.backend_args)
        depth = mmcv.imfrombytes(data, flag='unchanged', backend='cv2')
        if depth is None or depth.ndim != 2:
            found = 'unreadable' if depth is None else f'of shape {depth.shape}'
            raise ValueError(
                f'DepthToHHA: depth file {path} is {found}; a depth map is a '
                'single-channel image (16-bit PNG in millimetres for NYUDv2)'
            )
        hha = depth_to_hha(depth * self.depth_scale, self.intrinsics, self.gravity)
        results[COMPUTED_KEY] = dict(results.get(COMPUTED_KEY) or {}, hha=hha)
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(intrinsics={self.intrinsics}, '
            f'gravity={self.gravity}, depth_scale={self.depth_scale}, '
            f'modality={self.modality!r})'
        )
