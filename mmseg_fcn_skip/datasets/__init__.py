"""Datasets shipped with the plugin."""

from .toy_shapes import (
    TOY_SHAPES_CLASSES,
    TOY_SHAPES_PALETTE,
    ToyShapesDataset,
    generate_toy_shapes,
)

__all__ = ['TOY_SHAPES_CLASSES', 'TOY_SHAPES_PALETTE', 'ToyShapesDataset', 'generate_toy_shapes']
