"""Pipeline transforms that make data loading reproducible and failures clear.

- :class:`ApplySampleSeed` (first in a training pipeline) seeds the global
  random generators from the seed :class:`SeededInfiniteSampler` attached to
  the sample, so augmentation does not depend on worker or history.
- :class:`CheckSegFiles` (before the loaders) rejects missing, empty, damaged
  and unsupported image and label files with an error naming the file, or
  skips such samples with a warning if asked to.
- :class:`CheckSegPair` (right after the loaders) checks that the label map
  fits its image and holds only known class indices.
"""

import io
import logging
from typing import Dict, Optional, Set

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS
from PIL import Image

from .seeding import seed_global_rngs

#: Pillow modes of 16- and 32-bit single-channel images.
WIDE_LABEL_MODES = ('I;16', 'I;16B', 'I;16L', 'I')
#: Largest label value ``LoadAnnotations`` keeps (it casts to uint8).
MAX_UINT8 = 255
INVALID_LABEL_ACTIONS = ('raise', 'ignore')


@TRANSFORMS.register_module()
class ApplySampleSeed(BaseTransform):
    """Seed ``random``, numpy and torch from the sample's own seed.

    Put it first in the training pipeline and use ``SeededInfiniteSampler``:
    then every random transform after it draws the same numbers for the same
    position in the sample stream, in any worker and after any resume.

    Indices without a seed leave the generators as they are. That is still
    reproducible after a seeded sample (the dataset's replacement draw for a
    skipped sample), but not when no sample of this process had a seed
    (another sampler, or a dataset wrapper such as ``ConcatDataset`` that
    re-numbers the indices); a warning says so once.
    """

    def __init__(self) -> None:
        self._seeded = False
        self._warned = False

    def transform(self, results: Dict) -> Dict:
        """Seed the generators from ``results['sample_idx'].seed``."""
        seed = getattr(results.get('sample_idx'), 'seed', None)
        if seed is not None:
            seed_global_rngs(seed)
            self._seeded = True
        elif not (self._seeded or self._warned):
            self._warned = True
            print_log(
                'ApplySampleSeed found no seed on the sample index, so data '
                'augmentation is not reproducible across resumes; use '
                "train_dataloader.sampler=dict(type='SeededInfiniteSampler') "
                'and index the dataset directly (not through a dataset '
                'wrapper).',
                logger='current',
                level=logging.WARNING,
            )
        return results


@TRANSFORMS.register_module()
class CheckSegFiles(BaseTransform):
    """Check the image and label files of a sample before they are loaded.

    Each of ``img_path`` and ``seg_map_path`` (when present) must exist, be
    non-empty and pass Pillow's integrity check (for PNG: every chunk's
    checksum, without decoding). A 16-bit label map must have no value above
    255, which ``LoadAnnotations`` would wrap around when it casts to uint8.
    Formats Pillow cannot open are rejected; leave this transform out for
    such datasets.

    Args:
        skip_unreadable: If True, a sample with a bad file is dropped with a
            warning naming the file, and the training dataset draws another
            one instead. Test and validation datasets cannot drop samples
            (mmengine raises), so keep it False there.
        backend_args: File backend arguments, as for ``LoadImageFromFile``.

    Raises:
        ValueError: naming the file and what is wrong with it, unless
            ``skip_unreadable``.
    """

    def __init__(self, skip_unreadable: bool = False, backend_args: Optional[dict] = None) -> None:
        self.skip_unreadable = skip_unreadable
        self.backend_args = backend_args

    def transform(self, results: Dict) -> Optional[Dict]:
        """Return ``results`` unchanged, or None to skip the sample."""
        for key, role in (('img_path', 'image'), ('seg_map_path', 'label map')):
            path = results.get(key)
            if path is None:
                continue
            problem = self._file_problem(path, is_label=key == 'seg_map_path')
            if problem is None:
                continue
            message = f'{role} file {path} {problem}'
            if not self.skip_unreadable:
                raise ValueError(
                    f'{message}. Replace or remove the file, or set '
                    'skip_unreadable=True on CheckSegFiles in the training '
                    'pipeline to skip such samples.'
                )
            print_log(f'Skipping a sample: {message}.', logger='current', level=logging.WARNING)
            return None
        return results

    def _file_problem(self, path: str, is_label: bool) -> Optional[str]:
        """What is wrong with the file at ``path``, or None if it is fine."""
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            return 'does not exist'
        if not data:
            return 'is empty (0 bytes)'
        try:
            with Image.open(io.BytesIO(data)) as image:
                mode = image.mode
                image.verify()
        except Exception as error:  # Pillow raises many types for bad data
            return f'cannot be read as an image ({type(error).__name__}: {error})'
        if is_label and mode in WIDE_LABEL_MODES:
            return _wide_label_problem(data)
        return None

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(skip_unreadable='
            f'{self.skip_unreadable}, backend_args={self.backend_args})'
        )


@TRANSFORMS.register_module()
class CheckSegPair(BaseTransform):
    """Check a loaded label map against its image and the class count.

    Put it right after ``LoadImageFromFile`` and ``LoadAnnotations``. It

    - restores the shape of label maps of images one pixel high or wide,
      which ``LoadAnnotations`` squeezes to 1-D (or 0-D for 1x1 images);
    - rejects label maps with several channels (colour-coded maps must be
      converted to class indices first);
    - rejects a label map whose size differs from its image's, naming both
      files and both sizes;
    - handles values that are neither a class index (``0..num_classes-1``)
      nor ``ignore_index``: ``invalid_label='raise'`` (default) raises,
      naming the file and the values; ``'ignore'`` sets those pixels to
      ``ignore_index`` (so they count neither in the loss nor in the
      metrics) and warns once per file.

    Samples without a label map (inference) only have their image checked.

    Args:
        num_classes: Number of classes of the dataset.
        ignore_index: The label value of pixels to ignore. Default: 255.
        invalid_label: ``'raise'`` or ``'ignore'``, see above.

    Raises:
        ValueError: for any of the problems above, naming the file(s).
    """

    def __init__(
        self, num_classes: int, ignore_index: int = 255, invalid_label: str = 'raise'
    ) -> None:
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f'CheckSegPair: num_classes={num_classes!r} must be '
                "a positive integer (the dataset's class count)"
            )
        if invalid_label not in INVALID_LABEL_ACTIONS:
            raise ValueError(
                f'CheckSegPair: invalid_label={invalid_label!r} is '
                f'not supported; use one of {INVALID_LABEL_ACTIONS}'
            )
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.invalid_label = invalid_label
        self._warned_paths: Set[str] = set()

    def transform(self, results: Dict) -> Dict:
        """Check (and where stated, repair) ``img`` and ``gt_seg_map``."""
        image = results['img']
        img_path = results.get('img_path')
        if image.ndim not in (2, 3) or image.size == 0:
            raise ValueError(
                f'image {img_path} loaded with shape {image.shape}; '
                'expected (height, width[, channels]) with pixels'
            )
        if 'gt_seg_map' not in results:
            return results
        label = _unsqueeze(results['gt_seg_map'], image.shape[:2])
        seg_path = results.get('seg_map_path')
        if label.ndim != 2:
            raise ValueError(
                f'label map {seg_path} has shape {label.shape}: it must be a '
                'single-channel image of class indices (convert colour-coded '
                'label maps to indices first)'
            )
        if label.shape != image.shape[:2]:
            raise ValueError(
                f'label map {seg_path} is {_size(label.shape)} but its image '
                f'{img_path} is {_size(image.shape)} (height x width); they must '
                'be the same size: fix or re-export the pair'
            )
        results['gt_seg_map'] = self._check_values(label, seg_path)
        return results

    def _check_values(self, label: np.ndarray, seg_path: str) -> np.ndarray:
        """Apply ``invalid_label`` to values outside the classes."""
        invalid = (label >= self.num_classes) & (label != self.ignore_index)
        if not invalid.any():
            return label
        values = np.unique(label[invalid]).tolist()
        summary = (
            f'label map {seg_path} has {int(invalid.sum())} pixels with '
            f'values {values}, which are neither a class index '
            f'(0..{self.num_classes - 1}) nor ignore_index='
            f'{self.ignore_index}'
        )
        if self.invalid_label == 'raise':
            raise ValueError(
                f'{summary}. Fix the label map, check num_classes, or set '
                "invalid_label='ignore' on CheckSegPair to ignore those pixels."
            )
        if seg_path not in self._warned_paths:
            self._warned_paths.add(seg_path)
            print_log(f'{summary}; they are ignored.', logger='current', level=logging.WARNING)
        label = label.copy()
        label[invalid] = self.ignore_index
        return label

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(num_classes={self.num_classes}, '
            f'ignore_index={self.ignore_index}, '
            f'invalid_label={self.invalid_label!r})'
        )


def _wide_label_problem(data: bytes) -> Optional[str]:
    """The problem of a 16/32-bit label map with values above 255, if any."""
    with Image.open(io.BytesIO(data)) as image:
        largest = int(np.asarray(image).max())
    if largest <= MAX_UINT8:
        return None
    return (
        f'is a 16/32-bit label map with values up to {largest}; '
        f'LoadAnnotations keeps 8 bits, so values above {MAX_UINT8} would '
        'wrap around to other classes: re-number the classes to 0..254 '
        'and save as 8-bit'
    )


def _unsqueeze(label: np.ndarray, image_size: tuple) -> np.ndarray:
    """Undo ``LoadAnnotations``' ``squeeze`` for images one pixel high or wide."""
    squeezed = tuple(d for d in image_size if d != 1)
    if label.ndim < 2 and label.shape == squeezed:
        return label.reshape(image_size)
    return label


def _size(shape: tuple) -> str:
    return f'{shape[0]}x{shape[1]}'
