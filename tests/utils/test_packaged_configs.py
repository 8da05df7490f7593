"""The configs shipped in the package and the mmseg_fcn_skip:: scope."""

from pathlib import Path

import pytest
from mmengine.config import utils as config_utils
from mmseg.registry import MODELS

import mmseg_fcn_skip  # noqa: F401  (registers the scope)
from mmseg_fcn_skip.registry import MODELS as PLUGIN_MODELS
from mmseg_fcn_skip.utils import packaged_config

REPO = Path(__file__).resolve().parents[2]
NAME = 'fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'


def test_a_packaged_config_is_the_repository_config():
    path = Path(packaged_config(NAME))
    assert path.parts[-4:-2] == ('.mim', 'configs')
    assert path.read_text() == (REPO / 'configs' / NAME).read_text()


def test_a_missing_config_names_where_it_looked_and_the_fix():
    with pytest.raises(
        FileNotFoundError,
        match=r"'fcn_skip/nothing.py' is not among the "
        r'configs shipped with mmseg_fcn_skip \(looked for .*\.mim',
    ):
        packaged_config('fcn_skip/nothing.py')


def test_the_scope_is_known_to_mmengine_and_falls_through_to_mmseg():
    assert config_utils.MODULE2PACKAGE['mmseg_fcn_skip'] == 'mmseg_fcn_skip'
    assert PLUGIN_MODELS.parent is MODELS and PLUGIN_MODELS.scope == 'mmseg_fcn_skip'
    # The plugin's modules and mmseg's, found through the child registry.
    assert PLUGIN_MODELS.get('FCNSkipHead') is MODELS.get('FCNSkipHead')
    assert PLUGIN_MODELS.get('PSPHead') is MODELS.get('PSPHead')
