"""The published weights the configs start from or test, by short name.

Each entry gives the download URL, the file's layout (which converter turns it into
a checkpoint of the plugin's model), the input convention its ImageNet weights
expect, and the checksums published for the file, with where each fact was checked.
Entries without a published checksum say so: the SHA-256 of their first download is
recorded in the cache and checked from then on, and the converter's key and shape
checks reject a file of another net.

Checked facts (2026-12):

- torchvision: URLs from ``torchvision/models/vgg.py`` of torchvision 0.29.1 (the
  ``VGG*_Weights.IMAGENET1K_V1`` entries). The 8 hex digits of each file name are
  the start of the file's SHA-256, as ``torch.hub`` checks them
  (``HASH_REGEX = r'-([a-f0-9]*)\\.'`` in ``torch/hub.py``).
- Caffe VGG16 (Simonyan and Zisserman): URL and SHA-1 as in the Caffe Model Zoo
  entry of VGG16 and in OpenCV's ``download_models.py`` (same SHA-1 in both).
- FCN (Long, Shelhamer, Darrell): URLs from the ``caffemodel-url`` files of
  ``shelhamer/fcn.berkeleyvision.org`` (``voc-fcn32s``, ``voc-fcn16s``,
  ``voc-fcn8s``, ``voc-fcn8s-atonce``), which publishes no checksums. The SHA-1 of
  fcn32s/fcn8s-heavy-pascal are those OpenCV's ``download_models.py`` checks, the
  MD5 of fcn8s-heavy-pascal the one ``wkentaro/fcn`` checks. None was found for
  fcn16s-heavy-pascal and fcn8s-atonce-pascal.
- FCN on PASCAL-Context and NYUDv2: URLs from the ``caffemodel-url`` files of
  ``pascalcontext-fcn{32s,16s,8s}``, ``nyud-fcn32s-color``, ``nyud-fcn32s-hha`` and
  ``nyud-fcn32s-color-hha`` of the same repository; no checksum was found for any of them. Each entry's name
  is the released net's (``converters.released.RELEASED_NETS``), which the
  conversion needs for the NYUDv2 colour and HHA nets (identical shapes).
- FCN on SIFT Flow: URLs from the ``caffemodel-url`` files of
  ``siftflow-fcn{32s,16s,8s}`` of the same repository; no checksum was found.
"""

import re
from dataclasses import dataclass, field, replace
from typing import Dict, Optional
from urllib.parse import urlparse

from ..checkpoints.layouts import CAFFE_FCN, CAFFE_VGG, TORCHVISION_VGG

#: Hash algorithms a checksum may use (names of ``hashlib``).
ALGORITHMS = ('sha256', 'sha1', 'md5')
#: Shortest checksum prefix accepted (torch.hub's file names carry 8 hex digits).
MIN_CHECKSUM_DIGITS = 8
#: torch.hub's convention: ``name-<start of the SHA-256>.ext``.
HASH_IN_NAME = re.compile(r'-([a-f0-9]*)\.')
TORCHVISION_MODELS = 'https://download.pytorch.org/models/'
FCN_MODELS = 'http://dl.caffe.berkeleyvision.org/'


@dataclass(frozen=True)
class WeightsEntry:
    """One published weights file.

    Attributes:
        url (str): Where it is published.
        layout (str, optional): ``'torchvision-vgg'``, ``'caffe-vgg'`` or
            ``'caffe-fcn'`` (see ``checkpoints.weights_layout``); None: read
            from the file's keys (any other layout is used as it is).
        checksums (dict[str, str]): Published digests by algorithm (``'sha256'``,
            ``'sha1'``, ``'md5'``); a digest of fewer digits is a prefix the file's
            digest must start with. Empty if none is published.
        convention (str): Input the ImageNet weights expect, ``'torchvision'`` (RGB,
            ImageNet mean/std) or ``'caffe'`` (BGR, mean pixel); recorded in the
            converted checkpoint's meta.
        variant (str, optional): FCN variant of a ``'caffe-fcn'`` file, checked
            against its keys.
        name (str, optional): Short name in ``WEIGHTS``; None for a URL outside
            the table.
        note (str): What the file is and where its checksum comes from.
    """

    url: str
    layout: Optional[str] = None
    checksums: Dict[str, str] = field(default_factory=dict)
    convention: str = 'torchvision'
    variant: Optional[str] = None
    name: Optional[str] = None
    note: str = ''

    def __post_init__(self) -> None:
        for algorithm, digest in self.checksums.items():
            if algorithm not in ALGORITHMS:
                raise ValueError(
                    f'checksum algorithm {algorithm!r} of {self.url} is not '
                    f'supported; use one of {ALGORITHMS}'
                )
            if not re.fullmatch(f'[0-9a-f]{{{MIN_CHECKSUM_DIGITS},}}', digest):
                raise ValueError(
                    f'{algorithm} checksum {digest!r} of {self.url} is not a lower-case '
                    f'hex digest (or prefix) of at least {MIN_CHECKSUM_DIGITS} digits'
                )
        if self.layout not in (None, TORCHVISION_VGG, CAFFE_VGG, CAFFE_FCN):
            raise ValueError(
                f'layout={self.layout!r} of {self.url} is not supported; '
                f'use {TORCHVISION_VGG!r}, {CAFFE_VGG!r}, {CAFFE_FCN!r} '
                'or None'
            )

    @property
    def filename(self) -> str:
        """The file name the URL ends in (also its name in the cache)."""
        return urlparse(self.url).path.rsplit('/', 1)[-1]


def _torchvision(name: str, digest: str) -> WeightsEntry:
    return WeightsEntry(
        url=f'{TORCHVISION_MODELS}{name}-{digest}.pth',
        layout=TORCHVISION_VGG,
        checksums=dict(sha256=digest),
        convention='torchvision',
        name=name,
        note=f"torchvision's ImageNet {name} (IMAGENET1K_V1); SHA-256 prefix from its file name",
    )


def _fcn(stem: str, variant: str, checksums: Dict[str, str], note: str) -> WeightsEntry:
    return WeightsEntry(
        url=f'{FCN_MODELS}{stem}.caffemodel',
        layout=CAFFE_FCN,
        checksums=checksums,
        convention='caffe',
        variant=variant,
        name=stem,
        note=note,
    )


_ENTRIES = [
    _torchvision('vgg11', '8a719046'),
    _torchvision('vgg11_bn', '6002323d'),
    _torchvision('vgg13', '19584684'),
    _torchvision('vgg13_bn', 'abd245e5'),
    _torchvision('vgg16', '397923af'),
    _torchvision('vgg16_bn', '6c64b313'),
    _torchvision('vgg19', 'dcbb9e9d'),
    _torchvision('vgg19_bn', 'c79401a0'),
    WeightsEntry(
        url='http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/'
        'VGG_ILSVRC_16_layers.caffemodel',
        layout=CAFFE_VGG,
        checksums=dict(sha1='9363e1f6d65f7dba68c4f27a1e62105cdf6c4e24'),
        convention='caffe',
        name='vgg16_caffe',
        note='Caffe ImageNet VGG16 (VGG_ILSVRC_16_layers); SHA-1 of the Caffe Model Zoo entry',
    ),
    _fcn(
        'fcn32s-heavy-pascal',
        '32s',
        dict(sha1='05eb922d7829c39448f57e5ab9d8cd75d6c0be6d'),
        'released FCN-32s, PASCAL VOC; SHA-1 as checked by OpenCV',
    ),
    _fcn(
        'fcn16s-heavy-pascal',
        '16s',
        {},
        'released FCN-16s, PASCAL VOC; no checksum published (SHA-256 recorded on first download)',
    ),
    _fcn(
        'fcn8s-heavy-pascal',
        '8s',
        dict(
            sha1='c449ea74dd7d83751d1357d6a8c323fcf4038962', md5='c03b2953ebd846c270da1a8e8f200c09'
        ),
        'released FCN-8s (staged), PASCAL VOC; SHA-1 as checked by OpenCV, MD5 as '
        'checked by wkentaro/fcn',
    ),
    _fcn(
        'fcn8s-atonce-pascal',
        '8s-atonce',
        {},
        'released FCN-8s at-once, PASCAL VOC; no checksum published (SHA-256 '
        'recorded on first download)',
    ),
    *[
        _fcn(
            f'pascalcontext-fcn{variant}-heavy',
            variant,
            {},
            f'released FCN-{variant}, PASCAL-Context (60 outputs: background + 59 classes); '
            'no checksum published (SHA-256 recorded on first download)',
        )
        for variant in ('32s', '16s', '8s')
    ],
    *[
        _fcn(
            f'nyud-fcn32s-{images}-heavy',
            '32s',
            {},
            f'released FCN-32s, NYUDv2 40 classes, {words} input; no checksum published '
            '(SHA-256 recorded on first download)',
        )
        for images, words in (('color', 'colour'), ('hha', 'HHA'))
    ],
    *[
        _fcn(
            f'siftflow-fcn{variant}-heavy',
            variant,
            {},
            f'released FCN-{variant}, SIFT Flow: 33 semantic (_sem) + 3 geometric (_geo) '
            'classes on one VGG16; no checksum published (SHA-256 recorded on first download)',
        )
        for variant in ('32s', '16s', '8s')
    ],
    _fcn(
        'nyud-fcn32s-color-hha-heavy',
        '32s',
        {},
        'released FCN-32s colour-HHA late fusion (two VGG16 streams), NYUDv2 40 classes; '
        'URL from nyud-fcn32s-color-hha/caffemodel-url; no checksum published (SHA-256 '
        'recorded on first download)',
    ),
    _fcn(
        'fcn-alexnet-pascal',
        '32s',
        {},
        'released FCN-AlexNet (FCN-32s on CaffeNet), PASCAL VOC; URL from '
        'voc-fcn-alexnet/caffemodel-url; no checksum published (SHA-256 recorded on '
        'first download)',
    ),
]
#: The published weights by short name.
WEIGHTS: Dict[str, WeightsEntry] = {entry.name: entry for entry in _ENTRIES}


def find_weights(source: str) -> Optional[WeightsEntry]:
    """The entry a short name or an http(s) URL stands for.

    A URL whose file name is that of a table entry gets the entry's checksums and
    layout (``vgg16-397923af.pth`` is torchvision's VGG16 wherever it is served
    from), downloaded from the URL given. Any other URL gets an entry of its own,
    checked against the SHA-256 prefix in its file name if it has one (torch.hub's
    convention).

    Returns:
        The entry, or None if ``source`` is neither a name in ``WEIGHTS`` nor an
        http(s) URL.
    """
    if source in WEIGHTS:
        return WEIGHTS[source]
    if not source.startswith(('http://', 'https://')):
        return None
    given = WeightsEntry(url=source)
    for entry in WEIGHTS.values():
        if entry.filename == given.filename:
            return replace(entry, url=source)
    match = HASH_IN_NAME.search(given.filename)
    digest = match.group(1) if match else ''
    if len(digest) < MIN_CHECKSUM_DIGITS:
        return given
    return WeightsEntry(
        url=source,
        checksums=dict(sha256=digest),
        note='SHA-256 prefix from the file name (torch.hub convention)',
    )
