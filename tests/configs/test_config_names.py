"""Config names follow mmseg's pattern and say what the config holds:
``{algorithm}_{backbone}_{gpus}xb{batch}[-options]-{schedule}_{dataset}-{crop}.py``."""

import re
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
NAME = re.compile(
    r'^(?P<algorithm>[a-z0-9-]+)_(?P<backbone>[a-z0-9-]+)_(?P<gpus>\d+)xb'
    r'(?P<batch>\d+)(?:-[a-z0-9]+)*?-(?P<schedule>\d+k|\d+it)_'
    r'(?P<dataset>[a-z0-9-]+?)-(?P<crop>\d+x\d+|fullsize)$'
)
#: Folders of configs that are not model-zoo entries: bases, and templates to copy.
NOT_FAMILIES = ('_base_', 'templates')
FAMILY_CONFIGS = sorted(
    p for p in (REPO / 'configs').glob('*/*.py') if p.parent.name not in NOT_FAMILIES
)


def test_every_family_folder_holds_configs():
    assert {p.parent.name for p in FAMILY_CONFIGS} >= {'fcn_skip', 'fcn_skip_caffe'}


@pytest.mark.parametrize('path', FAMILY_CONFIGS, ids=lambda p: p.stem)
def test_the_name_says_batch_schedule_and_crop(path):
    match = NAME.match(path.stem)
    assert match, f"{path.name} does not follow mmseg's config name pattern"
    cfg = Config.fromfile(str(path))
    assert cfg.train_dataloader.batch_size == int(match['batch'])
    schedule = match['schedule']
    iters = int(schedule[:-1]) * 1000 if schedule.endswith('k') else int(schedule[:-2])
    assert cfg.train_cfg.max_iters == iters
    crop = match['crop']
    size = cfg.model.data_preprocessor.get('size')
    if crop == 'fullsize':
        assert size is None and cfg.train_dataloader.batch_size == 1
    else:
        assert tuple(size) == tuple(int(x) for x in crop.split('x'))


def test_root_configs_are_entry_points_that_only_inherit():
    for path in (REPO / 'configs').glob('*.py'):
        code = [
            line
            for line in path.read_text().splitlines()
            if line.strip() and not line.startswith('#')
        ]
        assert len(code) == 1 and code[0].startswith("_base_ = './"), path.name
