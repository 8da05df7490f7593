"""Inference, export and figure helpers behind the tools in ``tools/``."""

from .checkpoint import load_model, resolve_dataset_meta
from .inference import (
    InferenceSummary,
    build_inference_pipeline,
    find_images,
    infer_images,
    plan_batches,
    predict_labels,
)

__all__ = [
    'InferenceSummary',
    'build_inference_pipeline',
    'find_images',
    'infer_images',
    'load_model',
    'plan_batches',
    'predict_labels',
    'resolve_dataset_meta',
]
