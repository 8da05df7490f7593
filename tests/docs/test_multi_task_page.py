"""docs/modules.md, "Several tasks, several modalities", on small synthetic datasets.

The section marks its blocks with ``<!-- multi-task-test: KIND -->``: ``layout`` (the
folder layout of the two-task template), ``config`` (fragments of the template, line
for line), ``run`` (the commands that copy the template, train it for 2 iterations and
test it) and ``modalities`` (the colour-depth dataset, pipeline and model). The
commands run as written, from a folder laid out like the repository (its ``configs``
copied, ``tools`` linked), on a two-task dataset in the template's layout.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS
from PIL import Image

from tests.helpers import REPO
from tests.helpers.multi_task_data import CLASSES, GEO_CLASSES, SPLITS, write_two_task_dataset

PAGE = REPO / 'docs' / 'modules.md'
TEMPLATE = REPO / 'configs' / 'templates' / 'fcn8s_vgg16_custom-multi-task-dataset.py'
BLOCK = re.compile(r'<!-- multi-task-test: ([\w-]+) -->\n```\w*\n(.*?)\n```', re.S)
DATA = Path('data/my_dataset')
WORK_DIR = Path('work_dirs/my_two_task_check')


def page_blocks(kind: str) -> list:
    blocks = [text for marker, text in BLOCK.findall(PAGE.read_text()) if marker == kind]
    assert blocks, f'docs/modules.md has no block marked {kind!r}'
    return blocks


def run(command: list, cwd: Path) -> str:
    # `python` in the page's commands is this interpreter.
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PATH=f'{Path(sys.executable).parent}{os.pathsep}{os.environ["PATH"]}',
    )
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_the_config_blocks_are_lines_of_the_template():
    template = {line.strip() for line in TEMPLATE.read_text().splitlines()}
    blocks = page_blocks('config')
    assert len(blocks) == 4
    for block in blocks:
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        assert [line for line in lines if line not in template] == []


def test_the_layout_is_the_one_the_template_reads(tmp_path):
    write_two_task_dataset(tmp_path / DATA)
    files = re.findall(r'[\w/]+\.(?:jpg|png)', page_blocks('layout')[0])
    assert len(files) == 6
    for name in files:
        assert (tmp_path / DATA / name).is_file(), name
    cfg = Config.fromfile(str(TEMPLATE))
    assert cfg.data_root == str(DATA)
    dataset = cfg.train_dataloader.dataset
    assert dataset.data_prefix == dict(img_path='img_dir/train', seg_map_path='ann_dir/train')
    assert dataset.task_seg_map_prefixes == dict(geo='geo_ann_dir/train')
    assert cfg.val_dataloader.dataset.task_seg_map_prefixes == dict(geo='geo_ann_dir/val')


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp('project')
    shutil.copytree(REPO / 'configs', root / 'configs')
    (root / 'tools').symlink_to(REPO / 'tools')
    write_two_task_dataset(root / DATA)
    return root


def test_the_commands_train_and_test_both_tasks(project):
    (commands,) = page_blocks('run')
    out = run(['bash', '-euc', commands], project)
    assert re.search(r'decode\.loss_ce: [\d.]+', out) and re.search(r'geo\.loss_ce: [\d.]+', out)

    saved = torch.load(project / WORK_DIR / 'iter_2.pth', map_location='cpu', weights_only=False)
    meta = saved['meta']['dataset_meta']
    assert meta['classes'] == CLASSES and meta['task_classes'] == dict(geo=GEO_CLASSES)
    assert saved['state_dict']['decode_head.conv_seg.weight'].shape[0] == len(CLASSES)
    assert saved['state_dict']['task_heads.geo.conv_seg.weight'].shape[0] == len(GEO_CLASSES)

    (test_log,) = sorted((project / WORK_DIR / 'test').glob('*/*.log'))
    log = test_log.read_text()
    line = re.search(r'Iter\(test\).*', log).group(0)
    for name in ('aAcc', 'mIoU', 'mAcc', 'geo/aAcc', 'geo/mIoU', 'geo/mAcc'):
        assert re.search(rf'(^|\s){re.escape(name)}: [\d.]+', line), name
    assert 'task geo:' in log
    rows = re.findall(r'^\|\s*(\w+)\s*\|\s*(?:[\d.]+|nan)\s*\|\s*(?:[\d.]+|nan)\s*\|$', log, re.M)
    assert rows == [*CLASSES, *GEO_CLASSES]

    for name in SPLITS['val']:
        semantic = Image.open(project / WORK_DIR / 'infer' / 'pred' / f'{name}.png')
        geo = Image.open(project / WORK_DIR / 'infer' / 'pred_geo' / f'{name}.png')
        image = Image.open(project / DATA / 'img_dir' / 'val' / f'{name}.jpg')
        assert semantic.size == geo.size == image.size
        assert np.array(semantic).max() < len(CLASSES) and np.array(geo).max() < len(GEO_CLASSES)
        assert geo.mode == 'P' and geo.getpalette()[:9] == [
            70,
            130,
            180,
            140,
            100,
            40,
            128,
            128,
            128,
        ]


def test_the_colour_depth_example_loads_four_channels_and_runs(tmp_path):
    write_two_task_dataset(tmp_path / DATA, {'train': SPLITS['train'][:2]})
    for name in SPLITS['train'][:2]:
        height, width = np.asarray(
            Image.open(tmp_path / DATA / 'ann_dir/train' / f'{name}.png')
        ).shape
        depth = np.full((height, width), 2000, np.uint16)  # 2 m everywhere
        (tmp_path / DATA / 'depth_dir/train').mkdir(parents=True, exist_ok=True)
        Image.fromarray(depth).save(tmp_path / DATA / 'depth_dir/train' / f'{name}.png')
    example = {'classes': CLASSES, 'crop_size': (32, 32)}
    exec(page_blocks('modalities')[0], example)  # noqa: S102  (the page's own block)

    init_default_scope('mmseg')
    dataset_cfg = dict(example['train_dataloader']['dataset'], data_root=str(tmp_path / DATA))
    dataset = DATASETS.build(dataset_cfg)
    assert dataset.get_data_info(0)['modality_paths'] == dict(
        depth=str(tmp_path / DATA / 'depth_dir/train/0001.png')
    )
    sample = dataset[0]
    assert sample['inputs'].shape == (4, 32, 32)
    preprocessor = MODELS.build(example['data_preprocessor'])
    batch = preprocessor(dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']]))
    # the depth channel: log(2000 mm) less the mean 7.844, wherever the crop lies
    depth = batch['inputs'][0, 3]
    assert torch.allclose(depth, torch.full_like(depth, np.log(2000.0) - 7.844), atol=1e-4)

    backbone = dict(Config.fromfile(str(TEMPLATE)).model.backbone)
    backbone.update(example['model']['backbone'], base_channels=4, fc_channels=16, init_cfg=None)
    levels = MODELS.build(backbone)(batch['inputs'])
    assert [level.shape[1] for level in levels] == [16, 32, 16]
