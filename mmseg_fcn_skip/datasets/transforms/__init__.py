"""Pipeline transforms of the datasets (registered in mmseg's ``TRANSFORMS``).

- :mod:`.multi_modal`: ``LoadMultiModalImage`` (colour plus HHA or depth as one
  image) and ``ColourOnly`` (a photometric transform on the colour channels only).
- :mod:`.hha`: ``depth_to_hha`` and ``DepthToHHA``, HHA computed from depth.
- :mod:`.task_labels`: ``LoadTaskAnnotations`` and ``PackMultiTaskInputs``, the labels
  of a multi-task model's further tasks.
"""

from .hha import DepthToHHA, depth_to_hha
from .multi_modal import ColourOnly, LoadMultiModalImage
from .task_labels import LoadTaskAnnotations, PackMultiTaskInputs

__all__ = [
    'ColourOnly',
    'DepthToHHA',
    'LoadMultiModalImage',
    'LoadTaskAnnotations',
    'PackMultiTaskInputs',
    'depth_to_hha',
]
