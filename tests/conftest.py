import pytest
import torch
from mmseg.utils import register_all_modules

import mmseg_fcn_skip  # noqa: F401  (registers the plugin's modules)
from tests.helpers.light_models import light_toy_options as light_toy_options_of

register_all_modules(init_default_scope=True)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope='session')
def toy_data_root(tmp_path_factory) -> str:
    """A tiny built-in shapes dataset (8 train, 4 val images of odd sizes)."""
    from mmseg_fcn_skip.datasets import generate_toy_shapes

    root = tmp_path_factory.mktemp('toy_shapes')
    generate_toy_shapes(root, num_train=8, num_val=4, seed=0, size_range=(33, 71))
    return str(root)


@pytest.fixture(scope='session')
def light_toy_options(toy_data_root):
    """``--cfg-options`` for configs/fcn8s_toy.py that make it train in seconds."""
    return lambda max_iters=4: light_toy_options_of(toy_data_root, max_iters)
