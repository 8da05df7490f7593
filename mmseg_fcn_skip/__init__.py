"""The original Fully Convolutional Network (FCN) for MMSegmentation.

Importing this package registers ``FullyConvVGG`` and ``FCNSkipHead`` in
``mmseg.registry.MODELS`` and the built-in ``ToyShapesDataset`` in ``DATASETS``,
and lets mmengine load published weights by short name or URL (``weights``).
"""

from . import datasets, engine, evaluation, models, performance, registry, utils, weights  # noqa: F401

__version__ = '0.1.0'
