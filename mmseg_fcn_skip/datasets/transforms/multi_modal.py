"""Multi-modal input: the colour image and its HHA or depth siblings as one image.

mmseg's way of feeding several images to one model is one image whose channels are
theirs concatenated. :class:`LoadMultiModalImage` reads the colour image and the
modality files the dataset names (``NYUDv2Dataset(modalities=dict(hha='hha'))``
gives each sample ``modality_paths=dict(hha=...)``) into ``results['img']``, colour
first, in the channel orders of the FCN reference's nets:

============ ========= ====================================================
modality     channels  values
============ ========= ====================================================
(colour)     3         B, G, R as mmcv reads them, 0..255
``'hha'``    3         the PNG's channels in the order stored (not swapped
                       to BGR), 0..255, as ``nyud-fcn32s-hha`` takes them
``'depth'``  1         ``log(depth in mm)``, float32 (the data preprocessor
                       subtracts its mean 7.844, as ``nyud-fcn32s-color-d``)
============ ========= ====================================================

A sample without ``modality_paths`` (as mmseg's ``inference_model(model, 'photo.png')``
gives it) reads each modality's file by NYUDv2's layout, :func:`sibling_path`:
``data/nyudv2/images/img_5001.png`` -> ``data/nyudv2/hha/img_5001.png``.

Geometric transforms (mmseg's ``RandomResize``, ``RandomCrop``, ``RandomFlip`` and
the data preprocessor's padding) then move every channel alike. Two of cv2's
functions take 4 channels at most: resizing with ``interpolation='area'`` and the
border fill of the pipeline's ``Pad``; so keep mmseg's default ``'bilinear'``, and
pad in the data preprocessor (``size``, ``size_divisor``) as mmseg's configs do.
Photometric transforms are for colour only: wrap them in :class:`ColourOnly`. The model then normalises every channel with
``MultiModalDataPreProcessor`` (one mean and std per channel).
"""

import copy
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmengine import fileio
from mmseg.registry import TRANSFORMS

#: Channels each modality adds after the colour image's 3.
MODALITY_CHANNELS: Dict[str, int] = {'hha': 3, 'depth': 1}
#: Mean of log(depth in mm) over NYUDv2, as the reference's colour-depth net subtracts it.
LOG_DEPTH_MEAN = 7.844
#: Where a transform earlier in the pipeline leaves a modality it computed
#: (``DepthToHHA``): ``results[COMPUTED_KEY][name]`` is an ``(H, W, C)`` array.
COMPUTED_KEY = 'modality_images'
#: Pixel types of a depth map in millimetres.
DEPTH_DTYPES = (np.uint16, np.uint32, np.int32, np.float32, np.float64)
#: Suffix of the modality files (NYUDv2's HHA and depth PNGs).
MODALITY_SUFFIX = '.png'


def sibling_path(img_path: str, folder: str, suffix: str = MODALITY_SUFFIX) -> str:
    """The modality file of the colour image ``img_path`` by NYUDv2's layout.

    The file of the image's stem with ``suffix`` in the folder ``folder`` next to the
    image's folder: ``sibling_path('data/nyudv2/images/img_5001.png', 'hha')`` is
    ``'data/nyudv2/hha/img_5001.png'``. An absolute ``folder`` holds the file
    directly (``/data/hha/img_5001.png``).
    """
    stem = osp.splitext(osp.basename(img_path))[0]
    if osp.isabs(folder):
        return osp.join(folder, stem + suffix)
    return osp.join(osp.dirname(osp.dirname(img_path)), folder, stem + suffix)


def log_depth(
    depth: np.ndarray, depth_scale: float = 1.0, missing_value: float = LOG_DEPTH_MEAN
) -> np.ndarray:
    """The depth channel of the colour-depth net: ``log(depth in mm)``.

    Args:
        depth: ``(H, W)`` depth map; ``depth * depth_scale`` is millimetres, 0 where
            the sensor measured nothing.
        depth_scale: Millimetres per unit of ``depth`` (1 for NYUDv2's PNGs).
        missing_value: What a pixel without depth (0) becomes. The reference takes
            the log directly (``-inf`` there; NYUDv2's released depth maps are filled
            and have no such pixel). The default is the channel's mean, so such a
            pixel is 0 after the data preprocessor subtracts the mean: no evidence
            either way.

    Returns:
        np.ndarray: ``(H, W, 1)`` float32, finite everywhere.
    """
    millimetres = depth.astype(np.float64) * depth_scale
    valid = millimetres > 0
    logged = np.full(millimetres.shape, missing_value, dtype=np.float64)
    logged[valid] = np.log(millimetres[valid])
    return logged.astype(np.float32)[..., None]


@TRANSFORMS.register_module()
class LoadMultiModalImage(LoadImageFromFile):
    """Load the colour image and its modalities as one ``H x W x C`` image.

    Required keys: ``img_path``; ``modality_paths`` (from the dataset's
    ``modalities``) with a file for each modality, unless an earlier transform
    left the modality in ``results['modality_images']`` (``DepthToHHA``). A
    sample without ``modality_paths`` (mmseg's ``inference_model`` gives only
    ``img_path``; so does a dataset without ``modalities``) reads each modality's
    sibling by NYUDv2's layout, :func:`sibling_path` with the modality's name as
    the folder (``images/img_5001.png`` -> ``hha/img_5001.png``).

    Modified keys: ``img`` ``(H, W, 3 + sum of the modalities' channels)``, colour
    first (BGR), then the modalities in the order given (see the module's table);
    uint8 when every part is (colour and HHA), else float32. ``img_shape`` and
    ``ori_shape`` ``(H, W)``.

    Args:
        modalities (Sequence[str]): Modalities after the colour, each ``'hha'``
            or ``'depth'``. Default: ``('hha',)``.
        depth_scale (float): Millimetres per unit of the depth files. Default: 1.
        missing_depth (float): What a zero (missing) depth pixel becomes, see
            :func:`log_depth`. Default: 7.844, the channel's mean.
        **kwargs: ``LoadImageFromFile``'s (``to_float32``, ``imdecode_backend``,
            ``backend_args``, ``ignore_empty``); ``color_type`` must stay
            ``'color'``.

    Raises:
        ValueError: for an unknown modality; at loading, for a sample without the
            modality's file, a file of another size than the colour image (naming
            both files and sizes) or a depth file that is not single-channel.
    """

    def __init__(
        self,
        modalities: Sequence[str] = ('hha',),
        depth_scale: float = 1.0,
        missing_depth: float = LOG_DEPTH_MEAN,
        **kwargs,
    ) -> None:
        if kwargs.get('color_type', 'color') != 'color':
            raise ValueError(
                f'LoadMultiModalImage: color_type={kwargs["color_type"]!r}; the colour '
                "image gives the first 3 channels, so leave color_type='color'"
            )
        super().__init__(**kwargs)
        self.modalities = check_modality_names(modalities)
        if not depth_scale > 0:
            raise ValueError(
                f'LoadMultiModalImage: depth_scale={depth_scale!r} must be positive '
                '(millimetres per unit of the depth files: 1 for NYUDv2)'
            )
        self.depth_scale = depth_scale
        self.missing_depth = missing_depth

    @property
    def channels(self) -> int:
        """Channels of the loaded image: colour's 3 and each modality's."""
        return 3 + sum(MODALITY_CHANNELS[name] for name in self.modalities)

    def transform(self, results: dict) -> Optional[dict]:
        """Load the colour image and the modalities; concatenate them."""
        results = super().transform(results)
        if results is None:  # ignore_empty and the colour file is missing
            return None
        colour = results['img']
        parts = [colour]
        for name in self.modalities:
            array, source = self._modality(results, name)
            if array.shape[:2] != colour.shape[:2]:
                raise ValueError(
                    f'{name} {source} is {_size(array.shape)} but its colour image '
                    f'{results["img_path"]} is {_size(colour.shape)} (height x width); '
                    'the modalities of a sample must be the same size: fix or re-export '
                    'them'
                )
            parts.append(array)
        floating = self.to_float32 or any(part.dtype != np.uint8 for part in parts)
        dtype = np.float32 if floating else np.uint8
        results['img'] = np.concatenate([part.astype(dtype, copy=False) for part in parts], 2)
        results['img_shape'] = results['img'].shape[:2]
        results['ori_shape'] = results['img'].shape[:2]
        return results

    def _modality(self, results: dict, name: str) -> Tuple[np.ndarray, str]:
        """The modality's ``(H, W, C)`` array and where it came from (for errors)."""
        computed = (results.get(COMPUTED_KEY) or {}).get(name)
        if computed is not None:
            array = computed if computed.ndim == 3 else computed[..., None]
            return array, f'(computed earlier in the pipeline for {results["img_path"]})'
        if results.get('modality_paths') is None and results.get('img_path'):
            path = sibling_path(results['img_path'], name)
            if not fileio.exists(path, backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'{name} file {path} of {results["img_path"]} is missing (its sibling '
                    f"by NYUDv2's layout: the folder {name!r} next to the image's folder); "
                    'put it there or pass the sample as dict(img_path=..., '
                    f"modality_paths=dict({name}='<file>'))"
                )
        else:
            path = (results.get('modality_paths') or {}).get(name)
        if path is None:
            raise ValueError(
                f'sample {results.get("img_path")} has no {name} file (data info '
                f'modality_paths={results.get("modality_paths")}): set '
                f"modalities=dict({name}='<folder>') on the dataset (NYUDv2Dataset)"
                + (
                    ', or compute HHA from depth with DepthToHHA before this step'
                    if name == 'hha'
                    else ''
                )
            )
        data = fileio.get(path, backend_args=self.backend_args)
        if name == 'hha':  # 'rgb' undoes cv2's BGR read: the channels as stored
            array = mmcv.imfrombytes(data, flag='color', channel_order='rgb', backend='cv2')
            return array, f'file {path}'
        depth = mmcv.imfrombytes(data, flag='unchanged', backend='cv2')
        if depth is None or depth.ndim != 2 or depth.dtype.type not in DEPTH_DTYPES:
            found = 'unreadable' if depth is None else f'{depth.dtype} of shape {depth.shape}'
            raise ValueError(
                f'depth file {path} is {found}; a depth map is a single-channel image, '
                '16-bit PNG in millimetres (NYUDv2) or set depth_scale for other units'
            )
        return log_depth(depth, self.depth_scale, self.missing_depth), f'file {path}'

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(modalities={self.modalities}, '
            f'depth_scale={self.depth_scale}, missing_depth={self.missing_depth}, '
            f'to_float32={self.to_float32}, backend_args={self.backend_args})'
        )


@TRANSFORMS.register_module()
class ColourOnly(BaseTransform):
    """Apply a photometric transform to the colour channels (the first 3) only.

    ``ColourOnly(transform=dict(type='PhotoMetricDistortion'))``: the wrapped
    transform sees ``results['img']`` as the colour image alone, uint8 ``H x W x 3``
    (rounded and clipped to 0..255 if the image is float), as it expects; its output
    replaces the first 3 channels, in the image's dtype. The other channels (HHA,
    depth) are left exactly as they are.

    Args:
        transform (dict): Config of the photometric transform.
        colour_channels (int): How many leading channels are colour. Default: 3.

    Raises:
        ValueError: for an image of fewer than ``colour_channels`` channels, or a
            wrapped transform that changes the image's size.
    """

    def __init__(self, transform: dict, colour_channels: int = 3) -> None:
        self.transform_cfg = copy.deepcopy(transform)
        self.colour_transform = TRANSFORMS.build(transform)
        self.colour_channels = colour_channels

    def transform(self, results: dict) -> Optional[dict]:
        """Run the wrapped transform on the colour channels."""
        image = results['img']
        count = self.colour_channels
        if image.ndim != 3 or image.shape[2] < count:
            raise ValueError(
                f'ColourOnly: image {results.get("img_path")} has shape {image.shape}; it '
                f'needs at least {count} channels, colour first (LoadMultiModalImage)'
            )
        colour = image[..., :count]
        if colour.dtype != np.uint8:
            colour = np.clip(np.rint(colour), 0, 255).astype(np.uint8)
        inner = self.colour_transform(dict(results, img=np.ascontiguousarray(colour)))
        if inner is None:
            return None
        changed = inner['img']
        if changed.shape != colour.shape:
            raise ValueError(
                f'ColourOnly: {self.transform_cfg.get("type")} changed the colour image '
                f'from {colour.shape} to {changed.shape}; wrap photometric transforms only '
                '(geometric ones apply to the whole image: use them unwrapped)'
            )
        results.update(inner)
        results['img'] = np.concatenate(
            [changed.astype(image.dtype, copy=False), image[..., count:]], axis=2
        )
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transform={self.transform_cfg})'


def check_modality_names(modalities: Sequence[str]) -> Tuple[str, ...]:
    """``modalities`` as a tuple of known, distinct names.

    Raises:
        ValueError: naming the problem and the known modalities.
    """
    if isinstance(modalities, str):
        modalities = (modalities,)
    names = tuple(modalities)
    unknown = [name for name in names if name not in MODALITY_CHANNELS]
    if not names or unknown or len(set(names)) != len(names):
        raise ValueError(
            f'LoadMultiModalImage: modalities={names!r} must be distinct names from '
            f'{tuple(MODALITY_CHANNELS)} (after the colour image), e.g. '
            "('hha',) or ('depth',)"
        )
    return names


def _size(shape: tuple) -> str:
    return f'{shape[0]}x{shape[1]}'
