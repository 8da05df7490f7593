"""docs/datasets/nyud.md's commands for the fused nets, run as written on a tiny NYUDv2
release in the reference's layout.

The page marks its blocks with ``<!-- nyud-test: KIND -->``: ``prepare`` (the
converter), ``colour-d`` and ``colour-hha`` (training, testing), ``predict`` and
``predict-elsewhere`` (tools/infer.py), ``released`` (the released colour-HHA net by
name, served from 127.0.0.1 with fc6/fc7 of 8). Each line runs from a folder laid out like the
repository (``configs`` copied, ``tools`` linked, ``data/nyud`` the release), with
``--cfg-options`` appended that make the models light (4 to 32 channels, fc6/fc7 of 8,
no pretrained weights) and train 2 iterations; the checkpoint the page names
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
from tests.helpers.nyud_release import SHAPE, SPLITS, write_nyud_release
from tests.helpers.reference_nets import two_stream_fcn32s
from tests.helpers.weights_server import WeightsServer, loopback_only_env

PAGE = REPO / 'docs' / 'datasets' / 'nyud.md'
BLOCK = re.compile(r'<!-- nyud-test: ([\w-]+) -->\n```\w*\n(.*?)\n```', re.S)
COLOUR_HHA = 'fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-hha-fullsize'
COLOUR_D = 'fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-d-fullsize'
NAMES = sorted(f'img_{image_id}' for ids in SPLITS.values() for image_id in ids)
# The first test image, kept in a sub-folder by the 'elsewhere' layout.
NESTED = Path('kitchen') / 'img_5004.png'
RELEASED = 'nyud-fcn32s-color-hha-heavy'
FC = 8


def page_lines(kind: str) -> list:
    blocks = [text for marker, text in BLOCK.findall(PAGE.read_text()) if marker == kind]
    assert blocks, f'docs/datasets/nyud.md has no block marked {kind!r}'
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def light_options(config: str, full_width: bool = False) -> list:
    """``--cfg-options`` for a light model of ``config`` and a 2-iteration run; with
    ``full_width`` only fc6/fc7 are narrowed (as in the served released file)."""
    if config == COLOUR_HHA:
        options = {}
        for stream in (0, 1):
            if not full_width:
                options[f'model.backbone.streams.{stream}.base_channels'] = 4
            options[f'model.backbone.streams.{stream}.fc_channels'] = FC
            options[f'model.backbone.streams.{stream}.init_cfg'] = None
            options[f'model.decode_head.streams.{stream}.in_channels'] = '[8]'
            options[f'model.decode_head.streams.{stream}.init_cfg'] = None
    else:
        options = {
            'model.backbone.base_channels': 4,
            'model.backbone.fc_channels': 8,
            'model.backbone.init_cfg': None,
            'model.decode_head.in_channels': '[8]',
        }
    options.update(
        {
            'train_cfg.max_iters': 2,
            'train_cfg.val_interval': 2,
            'default_hooks.checkpoint.interval': 2,
            'default_hooks.logger.interval': 1,
        }
    )
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.num_workers'] = 0
        options[f'{loader}.persistent_workers'] = False
    return ['--cfg-options', *[f'{k}={v}' for k, v in options.items()]]


def run_line(
    line: str, root: Path, *extra: str, status: int = 0, env: dict = None, full_width=False
) -> str:
    """Run a page line (``python ...``) with ``extra`` arguments appended."""
    argv = shlex.split(line)
    assert argv[0] == 'python', line
    config = next((Path(a).stem for a in argv if a.endswith('-fullsize.py')), None)
    options = light_options(config, full_width) if config else []
    argv = [sys.executable, *argv[1:], *options, *extra]
    env = dict(env or os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == status, output[-3000:]
    return output


def train(line: str, root: Path) -> str:
    """Train (2 iterations) and put the checkpoint where the page's commands take it."""
    output = run_line(line, root)
    work_dir = root / 'work_dirs' / Path(shlex.split(line)[2]).stem
    shutil.copy(work_dir / 'iter_2.pth', work_dir / 'iter_100000.pth')
    return output


def labels_in(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): Image.open(p) for p in sorted(folder.rglob('*.png'))}


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    """The converted release, a trained colour-HHA and colour-depth net."""
    root = tmp_path_factory.mktemp('project')
    shutil.copytree(REPO / 'configs', root / 'configs')
    (root / 'tools').symlink_to(REPO / 'tools')
    write_nyud_release(root / 'data' / 'nyud')
    (prepare,) = page_lines('prepare')
    run_line(prepare, root)
    colour_hha = page_lines('colour-hha')
    assert [COLOUR_HHA in line for line in colour_hha] == [True, True]
    train(colour_hha[0], root)
    (colour_d,) = page_lines('colour-d')
    assert COLOUR_D in colour_d
    train(colour_d, root)
    return root


def test_the_colour_hha_test_command_prints_the_mean_iou(project):
    output = run_line(page_lines('colour-hha')[1], project)
    assert re.search(r'(^|\s)mIoU: [\d.]+', output)
    assert re.search(r'\|\s+wall\s+\|', output) and re.search(r'\|\s+otherprop\s+\|', output)


def test_infer_writes_a_label_png_per_image_for_both_fused_nets(project):
    colour_hha, colour_d = page_lines('predict')
    assert COLOUR_HHA in colour_hha and COLOUR_D in colour_d
    for line, out in ((colour_hha, 'color-hha'), (colour_d, 'color-d')):
        output = run_line(line, project)
        assert f'{len(NAMES)} images written to outputs/{out}, 0 skipped' in output
        labels = labels_in(project / 'outputs' / out / 'pred')
        assert list(labels) == [f'{name}.png' for name in NAMES]
        for png in labels.values():
            values = np.array(png)
            assert png.mode == 'P' and values.shape == SHAPE and values.max() < 40
        overlays = labels_in(project / 'outputs' / out / 'vis')
        assert [np.array(png).shape for png in overlays.values()] == [(*SHAPE, 3)] * len(NAMES)


def test_infer_elsewhere_reads_the_named_hha_folder(project):
    (line,) = page_lines('predict-elsewhere')
    data = project / 'data' / 'nyudv2'
    for folder, source in (('rgb', 'images'), ('hha', 'hha')):
        target = project / 'my_data' / folder / NESTED
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data / source / NESTED.name, target)
    if not (project / 'outputs' / 'color-hha').is_dir():
        run_line(page_lines('predict')[0], project)
    output = run_line(line, project)
    assert '1 images written to outputs/my-color-hha' in output
    mine = np.array(Image.open(project / 'outputs' / 'my-color-hha' / 'pred' / NESTED))
    # The same colour and HHA images as in data/nyudv2: the same labels.
    same = np.array(Image.open(project / 'outputs' / 'color-hha' / 'pred' / NESTED.name))
    assert np.array_equal(mine, same)

    (project / 'my_data' / 'hha' / NESTED).unlink()
    output = run_line(line, project, '--out', 'outputs/missing', status=2)
    errors = [text for text in output.splitlines() if text.startswith('error:')]
    assert errors == [
        f'error: hha file my_data/hha/{NESTED.as_posix()} of my_data/rgb/{NESTED.as_posix()} '
        'is missing (below --modality hha=my_data/hha); put the hha files there or name '
        'their folder with --modality hha=DIR (infer_images: modality_dirs=dict(hha=DIR))'
    ]
    assert not (project / 'outputs' / 'missing').exists()


def released_file() -> bytes:
    """A ``.caffemodel`` with the released two-stream net's layer names, VGG16's widths
    and fc6/fc7 of ``FC``, random weights."""
    weights = two_stream_fcn32s(torch.Generator().manual_seed(0), 40, fc_channels=FC)
    types = {key.rsplit('.', 1)[0]: 'Convolution' for key in weights}
    types['upscore'] = 'Deconvolution'
    return caffemodel(weights, types)


def test_the_released_net_by_name_tests_and_predicts(project, tmp_path):
    test_line, infer_line = page_lines('released')
    assert all(RELEASED in line for line in (test_line, infer_line))
    with WeightsServer({f'mirror/{RELEASED}.caffemodel': released_file()}) as server:
        env = dict(
            loopback_only_env(),
            FCN_WEIGHTS_MIRROR=server.url('mirror/'),
            TORCH_HOME=str(tmp_path / 'torch_home'),
        )
        output = run_line(test_line, project, env=env, full_width=True)
        assert re.search(r'(^|\s)mIoU: [\d.]+', output)
        output = run_line(infer_line, project, env=env, full_width=True)
        assert server.requests == {f'mirror/{RELEASED}.caffemodel': 1}  # then cached
    assert f'{len(NAMES)} images written to outputs/color-hha-released' in output
    labels = labels_in(project / 'outputs' / 'color-hha-released' / 'pred')
    assert list(labels) == [f'{name}.png' for name in NAMES]
    assert all(np.array(png).shape == SHAPE for png in labels.values())
