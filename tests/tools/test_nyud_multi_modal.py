"""NYUDv2 colour-HHA and colour-depth inputs from the original layout: the converter
with --depth, the dataset's modalities and the loading pipeline, into the 6- and
4-channel inputs the model sees; the colour-depth config trained with tools/train.py."""

import importlib.util
import os
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

import mmseg_fcn_skip  # noqa: F401 (registers the plugin's modules)
from tests.helpers.nyud_release import write_nyud_release

REPO = Path(__file__).resolve().parents[2]
COLOUR = 'configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-fullsize.py'
COLOUR_D = 'configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-d-fullsize.py'
COLOUR_MEAN = [116.190, 97.203, 92.318]
HHA_MEAN = [132.431, 94.076, 118.477]
LOG_DEPTH_MEAN = 7.844


def converter():
    path = REPO / 'tools' / 'dataset_converters' / 'nyud.py'
    spec = importlib.util.spec_from_file_location('nyud_converter', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp('nyud')
    return root, write_nyud_release(root)


@pytest.fixture(scope='module')
def data_root(release, tmp_path_factory):
    out = tmp_path_factory.mktemp('nyudv2')
    converter().main([str(release[0]), '--out-dir', str(out), '--depth'])
    return out


def test_the_converter_copies_the_depth_maps(release, data_root):
    root, frames = release
    for image_id in frames:
        copied = data_root / 'depth' / f'img_{image_id}.png'
        assert copied.read_bytes() == (root / 'data' / 'depth' / copied.name).read_bytes()
        assert np.array_equal(np.array(Image.open(copied)), frames[image_id].depth)


def test_without_depth_the_converter_writes_no_depth_folder(release, tmp_path):
    converter().main([str(release[0]), '--out-dir', str(tmp_path / 'out')])
    assert not (tmp_path / 'out' / 'depth').exists()
    assert (tmp_path / 'out' / 'hha' / 'img_5005.png').is_file()


def _copy(release, tmp_path):
    root = tmp_path / 'release'
    subprocess.run(['cp', '-r', str(release[0]), str(root)], check=True)
    return root


def test_the_converter_names_a_missing_depth_map(release, tmp_path):
    root = _copy(release, tmp_path)
    (root / 'data' / 'depth' / 'img_5004.png').unlink()
    with pytest.raises(FileNotFoundError, match='depth file .*img_5004.png of test.txt'):
        converter().main([str(root), '--out-dir', str(tmp_path / 'out'), '--depth'])


def test_the_converter_refuses_an_8_bit_depth_map(release, tmp_path):
    root = _copy(release, tmp_path)
    bad = root / 'data' / 'depth' / 'img_5002.png'
    Image.fromarray(np.zeros((21, 27), np.uint8)).save(bad)
    with pytest.raises(ValueError, match=f"depth map {bad} is a 'L' image.*16-bit"):
        converter().main([str(root), '--out-dir', str(tmp_path / 'out'), '--depth'])


def _fed(config, data_root, preprocessor=None, **dataset):
    """The first test sample as the model receives it: the dataset and test
    pipeline of ``config``, then its data preprocessor."""
    cfg = Config.fromfile(str(REPO / config))
    init_default_scope('mmseg')
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.update(data_root=str(data_root), **dataset)
    sample = DATASETS.build(dataset_cfg)[0]
    preprocessor = MODELS.build(preprocessor or cfg.model.data_preprocessor)
    batch = dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']])
    return preprocessor(batch)['inputs'][0], sample


def test_colour_hha_input_is_bgr_then_hha_as_stored_minus_the_means(release, data_root):
    frame = release[1]['5004']  # the first test image
    pipeline = [
        dict(type='LoadMultiModalImage', modalities=('hha',)),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs'),
    ]
    preprocessor = dict(
        type='MultiModalDataPreProcessor',
        mean=COLOUR_MEAN + HHA_MEAN,
        std=[1.0] * 6,
        bgr_to_rgb=False,
    )
    fed, sample = _fed(
        COLOUR, data_root, preprocessor, modalities=dict(hha='hha'), pipeline=pipeline
    )
    assert fed.shape == (6, 21, 27)
    colour_bgr = torch.from_numpy(frame.colour[..., ::-1].copy()).permute(2, 0, 1).float()
    hha = torch.from_numpy(frame.hha).permute(2, 0, 1).float()
    torch.testing.assert_close(fed[:3], colour_bgr - torch.tensor(COLOUR_MEAN).view(3, 1, 1))
    torch.testing.assert_close(fed[3:], hha - torch.tensor(HHA_MEAN).view(3, 1, 1))
    label = sample['data_samples'].gt_sem_seg.data[0]
    assert torch.equal(label, torch.from_numpy(frame.label.astype(np.int64) - 1) % 256)


def test_colour_depth_config_feeds_bgr_then_log_depth_minus_7_844(release, data_root):
    frame = release[1]['5004']
    fed, _ = _fed(COLOUR_D, data_root)
    assert fed.shape == (4, 21, 27) and fed.dtype == torch.float32
    colour_bgr = torch.from_numpy(frame.colour[..., ::-1].copy()).permute(2, 0, 1).float()
    torch.testing.assert_close(fed[:3], colour_bgr - torch.tensor(COLOUR_MEAN).view(3, 1, 1))
    depth = torch.from_numpy(frame.depth.astype(np.float64))
    expected = (torch.log(depth) - LOG_DEPTH_MEAN).float()
    torch.testing.assert_close(fed[3, 1:], expected[1:])
    assert fed[3, 0, 0] == 0  # the missing pixel: the mean, 0 after subtracting it
    torch.testing.assert_close(fed[3, 0, 1:], expected[0, 1:])


def test_the_colour_depth_model_refuses_a_colour_only_input(data_root):
    from mmseg.apis import init_model

    model = init_model(
        str(REPO / COLOUR_D),
        None,
        device='cpu',
        cfg_options={
            'model.backbone.base_channels': 4,
            'model.backbone.fc_channels': 8,
            'model.decode_head.in_channels': [8],
        },
    )
    with pytest.raises(ValueError, match='built for 4 input channels but got 3'):
        model.extract_feat(torch.zeros(1, 3, 21, 27))


def run_tool(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def light_options(data_root, work_dir, **extra):
    options = {
        'model.backbone.base_channels': 4,
        'model.backbone.fc_channels': 8,
        'model.decode_head.in_channels': '[8]',
        'model.backbone.init_cfg': None,
        'train_cfg.max_iters': 2,
        'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.logger.interval': 1,
        'work_dir': str(work_dir),
        **extra,
    }
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.dataset.data_root'] = str(data_root)
        options[f'{loader}.num_workers'] = 0
        options[f'{loader}.persistent_workers'] = False
    return ['--cfg-options', *[f'{k}={v}' for k, v in options.items()]]


def test_colour_depth_trains_from_a_colour_net_and_tests(data_root, tmp_path):
    """tools/train.py: 2 iterations of the colour net, then 2 of the colour-depth net
    from it (load_from: conv1_1 widened), then tools/test.py on the colour-depth net."""
    colour_dir, depth_dir = tmp_path / 'colour', tmp_path / 'colour-d'
    run_tool('tools/train.py', COLOUR, *light_options(data_root, colour_dir))
    colour = colour_dir / 'iter_2.pth'
    result = run_tool(
        'tools/train.py', COLOUR_D, *light_options(data_root, depth_dir, load_from=colour)
    )
    log = result.stdout + result.stderr
    assert 'widened from 3 to 4 input channels' in log
    trained = torch.load(depth_dir / 'iter_2.pth', map_location='cpu', weights_only=False)
    assert trained['state_dict']['backbone.blocks.0.0.conv.weight'].shape == (4, 4, 3, 3)
    tested = run_tool(
        'tools/test.py',
        COLOUR_D,
        str(depth_dir / 'iter_2.pth'),
        *light_options(data_root, depth_dir),
    )
    assert 'mIoU' in tested.stdout + tested.stderr
