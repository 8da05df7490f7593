"""The tools take published weights by name or URL: tools/train.py (init_cfg), with
one process or two started at once by torchrun, tools/test.py, tools/infer.py and
load_model. Files are served from 127.0.0.1 only."""

import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.checkpoints import CAFFE_FCN, TORCHVISION_VGG
from mmseg_fcn_skip.weights import WEIGHTS, WeightsEntry, fetch_checkpoint
from tests.helpers.light_models import TINY_CONFIG
from tests.helpers.processes import load_tool, subprocess_env
from tests.helpers.training_runs import data_options, derived_config, make_toy_data
from tests.helpers.weights_files import caffe_fcn32s_file, torchvision_vgg11_file
from tests.helpers.weights_server import (
    NO_PROXY,
    WeightsServer,
    closed_port,
    sha256,
    use_loopback_only,
)

REPO = Path(__file__).resolve().parents[2]
VGG, FCN = 'models/vgg11-light.pth', 'models/fcn32s-light.caffemodel'
ITERS = 2


@pytest.fixture(autouse=True)
def loopback_weights_env(tmp_path, monkeypatch):
    """A fresh torch hub cache, no mirror, no proxies (as in tests/weights)."""
    use_loopback_only(tmp_path / 'torch_home', monkeypatch)


@pytest.fixture(scope='module')
def files():
    return {VGG: torchvision_vgg11_file(), FCN: caffe_fcn32s_file(num_classes=5)}


@pytest.fixture
def server(files, monkeypatch):
    with WeightsServer(files) as server:
        monkeypatch.setitem(
            WEIGHTS,
            'vgg11-light',
            WeightsEntry(
                url=server.url(VGG),
                layout=TORCHVISION_VGG,
                name='vgg11-light',
                checksums=dict(sha256=sha256(files[VGG])),
            ),
        )
        monkeypatch.setitem(
            WEIGHTS,
            'fcn32s-light',
            WeightsEntry(
                url=server.url(FCN),
                layout=CAFFE_FCN,
                convention='caffe',
                variant='32s',
                name='fcn32s-light',
                checksums=dict(sha1=hashlib.sha1(files[FCN]).hexdigest()),
            ),
        )
        yield server


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return make_toy_data(tmp_path_factory.mktemp('data'), num_train=4, num_val=2)


def converter_output(tool: str, data: bytes, filename: str, folder: Path) -> dict:
    """The state dict ``tools/model_converters/<tool>.py`` makes of ``data``."""
    spec = importlib.util.spec_from_file_location(
        tool, REPO / 'tools' / 'model_converters' / f'{tool}.py'
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (folder / filename).write_bytes(data)
    module.main([str(folder / filename), str(folder / 'converted.pth')])
    return torch.load(folder / 'converted.pth', weights_only=True)['state_dict']


def assert_backbone_equals(checkpoint: Path, expected: dict) -> None:
    state = torch.load(checkpoint, weights_only=False)['state_dict']
    backbone = {k[len('backbone.') :]: v for k, v in state.items() if k.startswith('backbone.')}
    assert sorted(backbone) == sorted(expected)
    for key, tensor in expected.items():
        assert torch.equal(backbone[key], tensor), key


def pretrained_vgg11_config(folder: Path, checkpoint: str) -> Path:
    """A light FCN-8s on VGG11 (torchvision widths, fc6/fc7 of 64) starting from
    ``checkpoint``; learning rate 0, so the trained weights are the loaded ones; no
    validation (set ``train_dataloader.dataset.data_root``)."""
    body = f"""
model = dict(
    backbone=dict(depth=11, base_channels=64, fc_channels=64, norm_cfg=None,
                  init_cfg=dict(_delete_=True, type='Pretrained',
                                checkpoint={checkpoint!r})),
    decode_head=dict(in_channels=(256, 512, 64)))
train_dataloader = dict(num_workers=0, persistent_workers=False)
optim_wrapper = dict(optimizer=dict(lr=0.0))
param_scheduler = []
train_cfg = dict(max_iters={ITERS}, val_interval={ITERS})
default_hooks = dict(checkpoint=dict(interval={ITERS}))
val_dataloader = val_cfg = val_evaluator = None
"""
    return derived_config(folder, 'vgg11_pretrained', body, base=TINY_CONFIG)


def caffe_fcn32s_config(folder: Path) -> Path:
    """The light Caffe-exact FCN-32s of the served .caffemodel (5 classes)."""
    body = """
model = dict(
    data_preprocessor=dict(mean=[104.00699, 116.66877, 122.67892], std=[1.0, 1.0, 1.0],
                           bgr_to_rgb=False),
    backbone=dict(depth=16, base_channels=64, fc_channels=8, norm_cfg=None,
                  pad_mode='caffe', out_indices=(5, ), init_cfg=None),
    decode_head=dict(pad_mode='caffe', in_channels=(8, ), in_index=(0, )))
"""
    return derived_config(folder, 'fcn32s_caffe', body, base=TINY_CONFIG)


def run_main(tool: str, argv: list, monkeypatch):
    """``python tools/<tool>.py ARGV``, in this process."""
    monkeypatch.setattr(sys, 'argv', [f'{tool}.py', *argv])
    monkeypatch.setenv('LOCAL_RANK', '0')
    return load_tool(tool).main()


def test_train_fetches_converts_then_trains_offline_from_the_cache(
    server, files, data_root, tmp_path, monkeypatch
):
    config = pretrained_vgg11_config(tmp_path, 'vgg11-light')
    expected = converter_output('torchvision_vgg2mmseg', files[VGG], 'vgg11-light.pth', tmp_path)
    for run_index in range(2):
        work_dir = tmp_path / f'work{run_index}'
        run_main(
            'train',
            [
                str(config),
                '--work-dir',
                str(work_dir),
                '--cfg-options',
                f'train_dataloader.dataset.data_root={data_root}',
            ],
            monkeypatch,
        )
        assert_backbone_equals(work_dir / f'iter_{ITERS}.pth', expected)
        server.stop()  # the second run has no server at all
    assert server.requests == {VGG: 1}


def test_test_tool_infer_and_load_model_take_a_name(
    server, files, data_root, tmp_path, monkeypatch
):
    config = caffe_fcn32s_config(tmp_path)
    run_main(
        'test',
        [
            str(config),
            'fcn32s-light',
            '--work-dir',
            str(tmp_path / 'test'),
            '--cfg-options',
            *data_options(data_root),
        ],
        monkeypatch,
    )
    metrics = [p.read_text() for p in (tmp_path / 'test').rglob('*.json')]
    assert any('"mIoU"' in text for text in metrics)
    model = load_model(config, 'fcn32s-light')
    expected = torch.load(fetch_checkpoint('fcn32s-light'), weights_only=True)
    for key, tensor in expected['state_dict'].items():
        assert torch.equal(model.state_dict()[key], tensor), key
    image = next(Path(data_root, 'img_dir', 'val').iterdir())
    status = load_tool('infer').main(
        [
            str(config),
            server.url(FCN),
            str(image),
            '--out',
            str(tmp_path / 'out'),
            '--device',
            'cpu',
        ]
    )
    assert status == 0
    assert (tmp_path / 'out' / 'pred' / f'{image.stem}.png').is_file()
    assert server.requests == {FCN: 1}


def test_two_processes_started_by_torchrun_download_once_through_the_mirror(
    files, data_root, tmp_path
):
    named = f'vgg11-{sha256(files[VGG])[:8]}.pth'  # torch.hub's hash-prefix convention
    away = f'http://127.0.0.1:{closed_port()}/models/{named}'
    config = pretrained_vgg11_config(tmp_path, away)
    expected = converter_output('torchvision_vgg2mmseg', files[VGG], named, tmp_path)
    with WeightsServer({f'mirror/{named}': files[VGG]}, delay=1.5) as server:
        env = dict(
            subprocess_env(threads=1),
            TORCH_HOME=str(tmp_path / 'torch_home'),
            FCN_WEIGHTS_MIRROR=server.url('mirror/'),
            **NO_PROXY,
        )
        command = [
            sys.executable,
            '-m',
            'torch.distributed.run',
            '--standalone',
            '--nproc_per_node',
            '2',
            str(REPO / 'tools' / 'train.py'),
            str(config),
            '--launcher',
            'pytorch',
            '--work-dir',
            str(tmp_path / 'work'),
            '--cfg-options',
            f'train_dataloader.dataset.data_root={data_root}',
        ]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert server.requests == {f'mirror/{named}': 1}
    assert_backbone_equals(tmp_path / 'work' / f'iter_{ITERS}.pth', expected)


def test_load_from_a_released_fcn_by_name_into_another_class_count_and_variant(
    server, data_root, tmp_path, monkeypatch
):
    """fcn32s-light (5 classes) into a 3-class FCN-16s: staged and new classes at
    once; the backbone is the released one, the score layers start at zero."""
    three = tmp_path / 'three'
    for path in Path(data_root).rglob('*.png'):
        target = three / path.relative_to(data_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        if path.parts[-3] == 'ann_dir':
            labels = np.array(Image.open(path))
            labels[labels >= 3] = 0
            Image.fromarray(labels).save(target)
        else:
            target.write_bytes(data)
    body = f"""
model = dict(
    data_preprocessor=dict(mean=[104.00699, 116.66877, 122.67892], std=[1.0, 1.0, 1.0],
                           bgr_to_rgb=False),
    backbone=dict(depth=16, base_channels=64, fc_channels=8, norm_cfg=None,
                  pad_mode='caffe', out_indices=(3, 5), init_cfg=None),
    decode_head=dict(pad_mode='caffe', in_channels=(512, 8), in_index=(0, 1),
                     num_classes=3, score_init='zeros'))
# the toy images read as a dataset of 3 classes (the tools refuse a head whose class
# count is not the dataset's)
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        dataset=dict(type='BaseSegDataset', img_suffix='.png',
                                     seg_map_suffix='.png',
                                     metainfo=dict(classes=('background', 'disc', 'box'))))
optim_wrapper = dict(optimizer=dict(lr=0.0))
param_scheduler = []
train_cfg = dict(max_iters={ITERS}, val_interval={ITERS})
default_hooks = dict(checkpoint=dict(interval={ITERS}))
val_dataloader = val_cfg = val_evaluator = None
"""
    config = derived_config(tmp_path, 'fcn16s_caffe_3', body, base=TINY_CONFIG)
    work_dir = tmp_path / 'work'
    run_main(
        'train',
        [
            str(config),
            '--work-dir',
            str(work_dir),
            '--cfg-options',
            'load_from=fcn32s-light',
            f'train_dataloader.dataset.data_root={three}',
        ],
        monkeypatch,
    )
    released = torch.load(fetch_checkpoint('fcn32s-light'), weights_only=True)
    assert_backbone_equals(
        work_dir / f'iter_{ITERS}.pth',
        {
            k[len('backbone.') :]: v
            for k, v in released['state_dict'].items()
            if k.startswith('backbone.')
        },
    )
    state = torch.load(work_dir / f'iter_{ITERS}.pth', weights_only=False)['state_dict']
    assert state['decode_head.conv_seg.weight'].shape[0] == 3
    assert not state['decode_head.skip_scores.stride16.weight'].any()
    log = next(work_dir.rglob('*.log')).read_text()
    assert 'FCN-32s into FCN-16s (staged); 5 -> 3 classes' in log
    assert 'decode_head.conv_seg (5 -> 3 classes)' in log
    assert 'decode_head.skip_scores.stride16 (new skip level pool4 (stride 16))' in log
