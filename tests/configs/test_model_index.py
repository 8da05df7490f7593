"""model-index.yml and the metafiles: parsed as mmengine and mim read them, and in
agreement with the configs, the weights table and the converters."""

import re
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.fileio import load
from mmengine.utils import get_installed_path

import mmseg_fcn_skip  # registers the mmseg_fcn_skip:: scope
from mmseg_fcn_skip.checkpoints.converters.alexnet import CONFIG as ALEXNET_CONFIG
from mmseg_fcn_skip.checkpoints.converters.released import RELEASED_NETS
from mmseg_fcn_skip.registry import SCOPE
from mmseg_fcn_skip.weights.table import WEIGHTS

REPO = Path(__file__).resolve().parents[2]
INDEX = load(str(REPO / 'model-index.yml'))
METAFILES = [REPO / path for path in INDEX['Import']]
MODELS = [(path, model) for path in METAFILES for model in load(str(path))['Models']]
RELEASED = [(path, model) for path, model in MODELS if 'Weights Name' in model['Metadata']]


def test_the_index_names_every_family_folder_with_a_metafile():
    assert sorted(p.parent.name for p in METAFILES) == sorted(
        p.parent.name for p in (REPO / 'configs').glob('*/metafile.yaml')
    )
    assert all(p.is_file() for p in METAFILES)


@pytest.mark.parametrize('path, model', MODELS, ids=[m['Name'] for _, m in MODELS])
def test_each_model_names_its_config_and_collection(path, model):
    meta = load(str(path))
    assert model['In Collection'] in {c['Name'] for c in meta['Collections']}
    config = REPO / model['Config']
    assert config.is_file()
    assert model['Name'] == config.stem
    assert config.parent == path.parent
    for collection in meta['Collections']:
        assert (REPO / collection['README']).is_file()


def _resolves_here() -> bool:
    """Whether mmengine finds this package where it lies: the maintained mmengine also
    for editable installs; upstream mmengine looks next to the distribution's metadata,
    where an editable install has no package folder."""
    try:
        return Path(get_installed_path(SCOPE)) == Path(mmseg_fcn_skip.__file__).parent
    except Exception:
        return False


@pytest.mark.skipif(
    not _resolves_here(),
    reason='this mmengine does not find an editable '
    'install of the plugin by its package name; '
    'tests/packaging/test_wheel_install.py checks the wheel',
)
@pytest.mark.parametrize('path, model', MODELS, ids=[m['Name'] for _, m in MODELS])
def test_each_config_loads_by_its_external_name(path, model, tmp_path):
    """``mmseg_fcn_skip::folder/file.py`` as the base of a config elsewhere gives the
    config's model (its modules scoped to the plugin's registries)."""
    name = model['Config'].split('/', 1)[1]
    user = tmp_path / 'user.py'
    user.write_text(f"_base_ = 'mmseg_fcn_skip::{name}'\n")
    inherited = Config.fromfile(str(user))
    assert inherited.model._scope_ == 'mmseg_fcn_skip'
    direct = Config.fromfile(str(REPO / model['Config']))
    assert _unscoped(inherited.model.to_dict()) == direct.model.to_dict()


@pytest.mark.parametrize('path, model', RELEASED, ids=[m['Name'] for _, m in RELEASED])
def test_released_weights_match_the_table_the_converter_and_the_paper(path, model):
    entry = WEIGHTS[model['Metadata']['Weights Name']]
    assert model['Weights'] == entry.url
    if entry.name == 'fcn-alexnet-pascal':
        # Its number is the reference README's for the released file.
        assert ALEXNET_CONFIG == model['Config']
        assert model['Metadata']['Results Source'].startswith('reference README')
    else:
        assert 'configs/' + RELEASED_NETS[entry.name].config == model['Config']
        assert RELEASED_NETS[entry.name].variant == entry.variant
        assert model['Metadata']['Results Source'].startswith('paper')
    # The paper's number, as the config states it.
    stated = re.search(r'Expected: ([\d.]+) mean IU', (REPO / model['Config']).read_text())
    assert float(stated.group(1)) == model['Results']['Metrics']['mIoU']


def _unscoped(value):
    if isinstance(value, dict):
        return {k: _unscoped(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return type(value)(_unscoped(v) for v in value)
    return value
