"""Pipeline transforms of the datasets; importing this registers them in mmseg's
``TRANSFORMS``."""

from .task_labels import LoadTaskAnnotations, PackMultiTaskInputs  # noqa: F401
