"""Segmentors; importing this registers them in mmseg's ``MODELS``."""

from .multi_task import MultiTaskEncoderDecoder  # noqa: F401
