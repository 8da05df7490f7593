"""Datasets shipped with the plugin."""

from . import transforms  # noqa: F401
from .nyud import NYUD_CLASSES, NYUD_PALETTE, NYUDv2Dataset
from .toy_shapes import (
    TOY_SHAPES_CLASSES,
    TOY_SHAPES_PALETTE,
    ToyShapesDataset,
    generate_toy_shapes,
)

__all__ = [
    'NYUD_CLASSES',
    'NYUD_PALETTE',
    'NYUDv2Dataset',
    'TOY_SHAPES_CLASSES',
    'TOY_SHAPES_PALETTE',
    'ToyShapesDataset',
    'generate_toy_shapes',
]
