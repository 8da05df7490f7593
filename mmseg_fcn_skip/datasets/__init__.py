"""Datasets shipped with the plugin."""

from . import transforms  # noqa: F401 (registers the pipeline transforms)
from .multi_task import MultiTaskSegDataset
from .nyud import NYUD_CLASSES, NYUD_PALETTE, NYUDv2Dataset
from .siftflow import (
    SIFTFLOW_CLASSES,
    SIFTFLOW_GEO_CLASSES,
    SIFTFLOW_TEST_ABSENT,
    SiftFlowDataset,
)
from .toy_shapes import (
    TOY_SHAPES_CLASSES,
    TOY_SHAPES_PALETTE,
    ToyShapesDataset,
    generate_toy_shapes,
)

__all__ = [
    'MultiTaskSegDataset',
    'NYUD_CLASSES',
    'NYUD_PALETTE',
    'NYUDv2Dataset',
    'SIFTFLOW_CLASSES',
    'SIFTFLOW_GEO_CLASSES',
    'SIFTFLOW_TEST_ABSENT',
    'SiftFlowDataset',
    'TOY_SHAPES_CLASSES',
    'TOY_SHAPES_PALETTE',
    'ToyShapesDataset',
    'generate_toy_shapes',
]
