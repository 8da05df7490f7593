"""docs/custom_dataset.md, followed literally on a small 3-class dataset.

The page marks the blocks it is tested by with ``<!-- custom-dataset-test: KIND -->``:
``layout`` (the folder layout), ``edit-block`` (the template's block to edit),
``class-weights`` (the counting script), ``run`` (commands, in page order) and
``from-fcn8s`` (the copy of the second template). The commands run as written, from a
folder laid out like the repository (its ``configs`` copied, ``tools`` linked), so the
page and the test cannot drift apart.
"""

import ast
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
from mmseg.registry import DATASETS
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / 'docs' / 'custom_dataset.md'
TEMPLATE = REPO / 'configs' / 'templates' / 'fcn8s_vgg16_custom-dataset.py'
BLOCK = re.compile(r'<!-- custom-dataset-test: ([\w-]+) -->\n```\w*\n(.*?)\n```', re.S)
CLASSES = ('background', 'road', 'building')
DATA = Path('data/my_dataset')
CONFIG = Path('configs/my_dataset/fcn8s_vgg16_my-dataset.py')
# Train / val images as the layout block names them, 40-64 px, as in the page's example.
SPLITS = {'train': ['0001', '0002', '0003', '0004'], 'val': ['0101', '0102']}


def page_blocks(kind: str) -> list:
    blocks = [text for marker, text in BLOCK.findall(PAGE.read_text()) if marker == kind]
    assert blocks, f'docs/custom_dataset.md has no block marked {kind!r}'
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


def write_dataset(root: Path) -> list:
    """Images and 8-bit labels in the page's layout; returns the train label maps.

    Three classes: background, a large 'road' band, a small 'building' block (the rare
    class), and a 255 border of unlabelled pixels in every map.
    """
    rng = np.random.default_rng(0)
    colours = np.array([[30, 30, 30], [200, 70, 70], [70, 70, 210]], np.uint8)
    train_labels = []
    for split, names in SPLITS.items():
        for folder in ('img_dir', 'ann_dir'):
            (root / DATA / folder / split).mkdir(parents=True)
        for name in names:
            height, width = (int(v) for v in rng.integers(40, 65, size=2))
            label = np.zeros((height, width), np.uint8)
            label[height // 2 :, :] = 1
            label[4 : 4 + height // 4, 4 : 4 + width // 4] = 2
            label[:2, :] = 255
            image = colours[np.where(label == 255, 0, label)]
            image = image + rng.integers(0, 25, image.shape).astype(np.uint8)
            Image.fromarray(image).save(root / DATA / 'img_dir' / split / f'{name}.jpg')
            Image.fromarray(label).save(root / DATA / 'ann_dir' / split / f'{name}.png')
            if split == 'train':
                train_labels.append(label)
    return train_labels


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp('project')
    shutil.copytree(REPO / 'configs', root / 'configs')
    (root / 'tools').symlink_to(REPO / 'tools')
    return root, write_dataset(root)


def test_the_page_shows_the_layout_and_the_block_of_the_template():
    layout = page_blocks('layout')[0]
    for part in (
        f'{DATA}/',
        'img_dir/',
        'ann_dir/',
        'train/',
        'val/',
        f'{SPLITS["train"][0]}.jpg',
        f'{SPLITS["train"][0]}.png',
    ):
        assert part in layout
    # The block the page tells the user to edit is the template's, line for line.
    assert page_blocks('edit-block')[0] in TEMPLATE.read_text()


def test_the_page_trains_and_tests_a_three_class_dataset(project):
    root, train_labels = project
    copy, check = page_blocks('run')
    run(['bash', '-euc', copy], root)
    assert (root / CONFIG).read_text() == TEMPLATE.read_text()

    # Step 4: the script prints the weights, the line goes in place of the None.
    printed = run([sys.executable, '-c', page_blocks('class-weights')[0]], root)
    line = re.search(r'^class_weight = \[.*\]$', printed, re.M).group(0)
    weights = ast.literal_eval(line.split('=', 1)[1].strip())
    labels = np.concatenate([label.ravel() for label in train_labels])
    frequency = np.bincount(labels[labels != 255], minlength=3) / (labels != 255).sum()
    assert weights == pytest.approx(np.median(frequency) / frequency, abs=1e-4)
    assert weights[2] > weights[0] > 0  # the small building block weighs most
    text = (root / CONFIG).read_text()
    assert text.count('class_weight = None\n') == 1
    (root / CONFIG).write_text(text.replace('class_weight = None\n', line + '\n'))
    cfg = Config.fromfile(str(root / CONFIG))
    assert cfg.model.decode_head.loss_decode.class_weight == weights
    assert cfg.model.decode_head.num_classes == 3

    # Step 5: two iterations, then tools/test.py on the checkpoint.
    run(['bash', '-euc', check], root)
    work_dir = root / 'work_dirs' / 'my_dataset_check'
    saved = torch.load(work_dir / 'iter_2.pth', map_location='cpu', weights_only=False)
    assert saved['meta']['dataset_meta']['classes'] == CLASSES
    assert saved['state_dict']['decode_head.conv_seg.weight'].shape[0] == 3
    trained = Config.fromfile(str(work_dir / CONFIG.name))  # the config as it ran
    assert trained.model.decode_head.loss_decode.class_weight == weights
    test_logs = sorted((work_dir / 'test').glob('*/*.log'))
    assert len(test_logs) == 1
    log = test_logs[0].read_text()
    rows = re.findall(r'^\|\s*(\w+)\s*\|\s*([\d.]+|nan)\s*\|\s*([\d.]+|nan)\s*\|$', log, re.M)
    assert tuple(name for name, _, _ in rows) == CLASSES
    miou = float(re.search(r'Iter\(test\).*mIoU: ([\d.]+)', log).group(1))
    ious = [float(iou) for _, iou, _ in rows]
    assert miou == pytest.approx(np.nanmean(ious), abs=0.02)


def test_the_second_template_keeps_the_dataset_and_starts_from_the_released_fcn8s(project):
    root, _ = project
    run(['bash', '-euc', page_blocks('run')[0]], root)
    run(['bash', '-euc', page_blocks('from-fcn8s')[0]], root)
    cfg = Config.fromfile(
        str(root / 'configs' / 'my_dataset' / 'fcn8s_vgg16_my-dataset_from-fcn8s.py')
    )
    assert cfg.load_from == 'fcn8s-heavy-pascal'
    assert cfg.train_dataloader.dataset.metainfo.classes == CLASSES
    assert cfg.model.decode_head.num_classes == 3
    assert cfg.model.backbone.pad_mode == cfg.model.decode_head.pad_mode == 'caffe'
    assert cfg.model.backbone.init_cfg is None


def test_reduce_zero_label_in_the_block_reaches_the_loaded_labels(project):
    root, _ = project
    run(['bash', '-euc', page_blocks('run')[0]], root)
    text = (root / CONFIG).read_text()
    assert text.count('reduce_zero_label = False\n') == 1
    (root / CONFIG).write_text(
        text.replace('reduce_zero_label = False\n', 'reduce_zero_label = True\n')
    )
    cfg = Config.fromfile(str(root / CONFIG))
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = str(root / DATA)
    dataset_cfg.pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs'),
    ]
    loaded = DATASETS.build(dataset_cfg)[0]['data_samples'].gt_sem_seg.data[0].numpy()
    written = np.asarray(Image.open(root / DATA / 'ann_dir' / 'val' / '0101.png'))
    # 0 (unlabelled) -> 255, k -> k - 1, 255 stays 255
    expected = np.where((written == 0) | (written == 255), 255, written - 1)
    assert np.array_equal(loaded, expected) and (written == 0).any()
