import pytest
import torch

import mmseg_fcn_skip  # noqa: F401  (registers the plugin's modules)
from mmseg.utils import register_all_modules

register_all_modules(init_default_scope=True)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
