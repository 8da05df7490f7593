from .fcn_skip_head import FCNSkipHead
from .late_fusion_head import LateFusionHead

__all__ = ['FCNSkipHead', 'LateFusionHead']
