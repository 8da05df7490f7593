"""Pipeline transforms of the datasets (registered in mmseg's ``TRANSFORMS``).

- :mod:`.multi_modal`: ``LoadMultiModalImage`` (colour plus HHA or depth as one
  image) and ``ColourOnly`` (a photometric transform on the colour channels only).
- :mod:`.hha`: ``depth_to_hha`` and ``DepthToHHA``, HHA computed from depth.
"""

from .hha import DepthToHHA, depth_to_hha
from .multi_modal import ColourOnly, LoadMultiModalImage

__all__ = ['ColourOnly', 'DepthToHHA', 'LoadMultiModalImage', 'depth_to_hha']
