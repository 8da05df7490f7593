from .backbones import *  # noqa: F401,F403
from .data_preprocessor import MultiModalDataPreProcessor
from .decode_heads import *  # noqa: F401,F403
from .fusion_plan import FusionPlan, level_key, variant_name
from .segmentors import *  # noqa: F401,F403

__all__ = ['FusionPlan', 'MultiModalDataPreProcessor', 'level_key', 'variant_name']
