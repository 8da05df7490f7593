"""Inference, export and figure helpers behind the tools in ``tools/``."""

from .inference import (
    InferenceSummary,
    build_inference_pipeline,
    find_images,
    infer_images,
    plan_batches,
    predict_labels,
)
from .model import load_model, resolve_dataset_meta

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
