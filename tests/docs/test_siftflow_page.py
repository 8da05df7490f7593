"""docs/datasets/siftflow.md's commands, run as written on a tiny SIFT Flow release in
the layout of ``SiftFlowDataset.zip``.

The page marks its blocks with ``<!-- siftflow-test: KIND -->``: ``prepare`` (the
converter), ``train`` (FCN-32s, then FCN-16s from it, tested) and ``released`` (the
released FCN-16s by name, served from 127.0.0.1 with VGG16's widths and fc6/fc7 of 8,
tested and predicting). Each line runs from a folder laid out like the repository
(``configs`` copied, ``tools`` linked, ``SiftFlowDataset.zip`` and the reference's split
lists in ``fcn.berkeleyvision.org/data/sift-flow``), with ``--cfg-options`` appended that
make the models light (4 to 32 channels, fc6/fc7 of 8, no pretrained weights, images
not padded to 256x256) and train 2 iterations; the checkpoint the page names
(``iter_100000.pth``) is the 2-iteration one, copied.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers import REPO
from tests.helpers.caffemodel_writer import caffemodel
from tests.helpers.reference_nets import UPSCORES, caffe_vgg16, siftflow_weights
from tests.helpers.siftflow_release import SHAPE, TEST, TRAINVAL, write_release, zip_release
from tests.helpers.weights_server import WeightsServer, loopback_only_env

PAGE = REPO / 'docs' / 'datasets' / 'siftflow.md'
BLOCK = re.compile(r'<!-- siftflow-test: ([\w-]+) -->\n```\w*\n(.*?)\n```', re.S)
CONFIG = re.compile(r'fcn(32s|16s|8s)_vgg16-caffe_1xb1-100k_siftflow-256x256\.py$')
LISTS = Path('fcn.berkeleyvision.org') / 'data' / 'sift-flow'
RELEASED = 'siftflow-fcn16s-heavy'
FC = 8
#: The heads' input channels (pool3, pool4, fc7) of the light and the full-width VGG16.
LEVELS = {False: (16, 32, FC), True: (256, 512, FC)}
#: Photos the released net predicts: two of the release's images and a PNG of its own size.
PHOTOS = ('coast.jpg', 'street.jpg', 'cliff.png')


def page_lines(kind: str) -> list:
    """The commands of the blocks marked ``kind``, continuation lines joined."""
    blocks = [text for marker, text in BLOCK.findall(PAGE.read_text()) if marker == kind]
    assert blocks, f'docs/datasets/siftflow.md has no block marked {kind!r}'
    text = '\n'.join(blocks).replace('\\\n', ' ')
    return [line for line in text.splitlines() if line.strip()]


def light_options(variant: str, full_width: bool = False) -> list:
    """``--cfg-options`` for a light model of the ``variant`` config and a 2-iteration
    run; with ``full_width`` only fc6/fc7 are narrowed (as in the served released file)."""
    channels = LEVELS[full_width][-{'32s': 1, '16s': 2, '8s': 3}[variant] :]
    options = {
        'model.backbone.fc_channels': FC,
        'model.backbone.init_cfg': None,
        'model.decode_head.in_channels': list(channels),
        'model.task_heads.geo.in_channels': list(channels),
        # the tiny images as they are, not padded to 256x256 with void
        'model.data_preprocessor.size': None,
        'model.data_preprocessor.size_divisor': 1,
        'train_cfg.max_iters': 2,
        'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.logger.interval': 1,
    }
    if not full_width:
        options['model.backbone.base_channels'] = 4
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.num_workers'] = 0
        options[f'{loader}.persistent_workers'] = False
    values = {k: str(v).replace(' ', '') for k, v in options.items()}
    return ['--cfg-options', *[f'{k}={v}' for k, v in values.items()]]


def run_line(line: str, root: Path, env: dict = None, full_width: bool = False) -> str:
    """Run a page line (``python ...``), light ``--cfg-options`` appended for a config."""
    argv = shlex.split(line)
    assert argv[0] == 'python', line
    variant = next((m.group(1) for m in map(CONFIG.search, argv) if m), None)
    options = light_options(variant, full_width) if variant else []
    env = dict(env or os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, *argv[1:], *options],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


def labels_in(folder: Path) -> dict:
    return {p.name: Image.open(p) for p in sorted(folder.glob('*.png'))}


def assert_both_tasks_scored(output: str) -> None:
    """tools/test.py's scores and class tables of the semantic and geometric task."""
    for name in ('aAcc', 'mIoU', 'geo/aAcc', 'geo/mIoU'):
        assert re.search(rf'(^|\s){re.escape(name)}: [\d.]+', output), name
    assert 'left out of the means: cow, desert, moon' in output
    for name in ('awning', 'crosswalk', 'window', 'sky', 'horizontal', 'vertical'):
        assert re.search(rf'\|\s+{name}\s+\|', output), name


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    """The repository's layout, the release zip and the reference's lists, converted."""
    root = tmp_path_factory.mktemp('project')
    shutil.copytree(REPO / 'configs', root / 'configs')
    (root / 'tools').symlink_to(REPO / 'tools')
    release = tmp_path_factory.mktemp('release')
    labels = write_release(release)
    # the lists come from the reference's repository, not the zip
    (root / LISTS).mkdir(parents=True)
    for split in ('trainval', 'test'):
        shutil.move(release / 'SiftFlowDataset' / f'{split}.txt', root / LISTS / f'{split}.txt')
    zip_release(release, root / 'SiftFlowDataset.zip')
    (prepare,) = page_lines('prepare')
    output = run_line(prepare, root)
    return root, labels, output


def test_the_converter_writes_both_labellings_and_the_splits(project):
    root, labels, output = project
    assert 'trainval: 3 images (left out, unannotated: highway_bost181)' in output
    assert 'test: 2 images' in output
    data = root / 'data' / 'siftflow'
    assert (data / 'trainval.txt').read_text().split() == list(TRAINVAL)
    assert (data / 'test.txt').read_text().split() == list(TEST)
    names = sorted(TRAINVAL + TEST)
    assert sorted(p.name for p in (data / 'images').iterdir()) == [f'{n}.jpg' for n in names]
    semantic, geometric = labels_in(data / 'annotations'), labels_in(data / 'geo_annotations')
    assert list(semantic) == list(geometric) == [f'{n}.png' for n in names]
    for name in names:
        released_semantic, released_geometric = labels[name]
        # class k as k - 1, void (semantic 0, geometric -1) as 255
        expected = np.where(released_semantic == 0, 255, released_semantic - 1)
        assert np.array_equal(np.array(semantic[f'{name}.png']), expected)
        expected = np.where(released_geometric == -1, 255, released_geometric - 1)
        assert np.array_equal(np.array(geometric[f'{name}.png']), expected)
        assert np.array(semantic[f'{name}.png']).shape == SHAPE


def test_staged_training_then_test_prints_both_tasks(project):
    root = project[0]
    train_32s, train_16s, test_16s = page_lines('train')
    output = run_line(train_32s, root)
    assert 'decode.loss_ce' in output and 'geo.loss_ce' in output
    work_dir = root / 'work_dirs' / 'fcn32s_vgg16-caffe_1xb1-100k_siftflow-256x256'
    shutil.copy(work_dir / 'iter_2.pth', work_dir / 'iter_100000.pth')
    output = run_line(train_16s, root)
    assert f'Load checkpoint from {work_dir.relative_to(root)}/iter_100000.pth' in output
    assert 'decode.loss_ce' in output and 'geo.loss_ce' in output
    work_dir = root / 'work_dirs' / 'fcn16s_vgg16-caffe_1xb1-100k_siftflow-256x256'
    shutil.copy(work_dir / 'iter_2.pth', work_dir / 'iter_100000.pth')
    assert_both_tasks_scored(run_line(test_16s, root))


def released_file() -> bytes:
    """A ``.caffemodel`` with the layer names of ``siftflow-fcn16s-heavy``, VGG16's widths
    and fc6/fc7 of ``FC``, random weights."""
    generator = torch.Generator().manual_seed(0)
    weights = siftflow_weights(caffe_vgg16(generator, fc_channels=FC), '16s', generator, FC)
    types = {key.rsplit('.', 1)[0]: 'Convolution' for key in weights}
    for name in UPSCORES['16s']:
        types.update({f'{name}_sem': 'Deconvolution', f'{name}_geo': 'Deconvolution'})
    return caffemodel(weights, types)


def test_the_released_net_by_name_tests_and_predicts_both_tasks(project, tmp_path):
    root = project[0]
    test_line, infer_line = page_lines('released')
    assert all(RELEASED in line for line in (test_line, infer_line))
    photos = root / 'photos'
    photos.mkdir()
    for photo, name in zip(PHOTOS, TRAINVAL):
        image = Image.open(root / 'data' / 'siftflow' / 'images' / f'{name}.jpg')
        image.save(photos / photo)
    with WeightsServer({f'mirror/{RELEASED}.caffemodel': released_file()}) as server:
        env = dict(
            loopback_only_env(),
            FCN_WEIGHTS_MIRROR=server.url('mirror/'),
            TORCH_HOME=str(tmp_path / 'torch_home'),
        )
        assert_both_tasks_scored(run_line(test_line, root, env=env, full_width=True))
        output = run_line(infer_line, root, env=env, full_width=True)
        assert server.requests == {f'mirror/{RELEASED}.caffemodel': 1}  # then cached
    assert f'{len(PHOTOS)} images written to out, 0 skipped' in output
    expected = sorted(f'{Path(photo).stem}.png' for photo in PHOTOS)
    for folder, num_classes in (('pred', 33), ('pred_geo', 3)):
        labels = labels_in(root / 'out' / folder)
        assert list(labels) == expected, folder
        for png in labels.values():
            values = np.array(png)
            assert png.mode == 'P' and values.shape == SHAPE and values.max() < num_classes
