"""load_from through tools/train.py and mmseg's own tools/train.py, for real.

Staged training (FCN-32s -> 16s -> 8s, each new skip level starting at zero) and
fine-tuning on another class count, on the toy shapes with light models. A probe
hook saves the weights each run starts from (after mmengine has loaded
``load_from``), which are compared with the checkpoint of the stage before.
"""

import subprocess
import sys
from pathlib import Path

import mmseg
import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers import REPO
from tests.helpers.light_models import light_settings
from tests.helpers.processes import subprocess_env

#: mmseg's own training tool, as installed with the package.
MMSEG_TRAIN = Path(mmseg.__file__).parent / '.mim' / 'tools' / 'train.py'
PLUGIN_TRAIN = REPO / 'tools' / 'train.py'
#: The variants of the staged training, in order.
STAGES = ('32s', '16s', '8s')


def write_config(
    folder: Path, variant: str, num_classes: int = 5, score_init: str = 'zeros'
) -> Path:
    """A light toy config of ``variant`` with the start-weights probe, the score
    layers' init ``score_init``, 2 iterations, a checkpoint at the end and no validation."""
    model = light_settings(variant, num_classes, score_init=score_init)
    path = folder / f'fcn{variant}_{num_classes}_{score_init}.py'
    path.write_text(
        f'_base_ = {str(REPO / "configs" / f"fcn{variant}_toy.py")!r}\n'
        "custom_imports = dict(imports=['mmseg_fcn_skip', 'tests.helpers.training_probes'],\n"
        '                      allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='SaveStartWeightsHook')]\n"
        f'model = {model!r}\n'
        'train_cfg = dict(max_iters=2, val_interval=2)\n'
        'val_dataloader = val_cfg = val_evaluator = None\n'
        'default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))\n'
    )
    if num_classes != 5:
        # A dataset of that many classes (the tools refuse a head whose class count is
        # not the dataset's): the toy images read as a dataset of its own.
        classes = tuple(f'class{i}' for i in range(num_classes))
        with path.open('a') as config:
            config.write(
                "train_dataloader = dict(dataset=dict(type='BaseSegDataset', "
                "img_suffix='.png', seg_map_suffix='.png', "
                f'metainfo=dict(classes={classes!r})))\n'
            )
    return path


def train(
    tool: Path, config: Path, work_dir: Path, data_root: str, *options: str, check: bool = True
) -> subprocess.CompletedProcess:
    """Run a training tool; return the finished process (output in stdout)."""
    data = [
        f'train_dataloader.{key}'
        for key in (f'dataset.data_root={data_root}', 'num_workers=0', 'persistent_workers=False')
    ]
    result = subprocess.run(
        [
            sys.executable,
            str(tool),
            str(config),
            '--work-dir',
            str(work_dir),
            '--cfg-options',
            *data,
            *options,
        ],
        cwd=REPO,
        env=subprocess_env(threads=1),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    result.stdout += result.stderr
    return result


def trained(work_dir: Path) -> dict:
    return torch.load(work_dir / 'iter_2.pth', weights_only=False)['state_dict']


def start(work_dir: Path) -> dict:
    return torch.load(work_dir / 'start.pth', weights_only=True)


def assert_carried(previous: dict, started: dict, skip: tuple = ()) -> None:
    """Every tensor of ``previous`` (but ``skip`` layers) is found unchanged."""
    for key, tensor in previous.items():
        if not key.startswith(skip):
            assert torch.equal(started[key], tensor), key


@pytest.fixture(scope='module')
def data_root(toy_data_root) -> str:
    return toy_data_root


@pytest.fixture(scope='module')
def three_class_root(toy_data_root, tmp_path_factory) -> str:
    """The toy shapes with 3 classes: triangles and bars (3, 4) become background."""
    root = tmp_path_factory.mktemp('toy3')
    for path in Path(toy_data_root).rglob('*.png'):
        target = root / path.relative_to(toy_data_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.parts[-3] == 'ann_dir':
            labels = np.array(Image.open(path))
            labels[(labels == 3) | (labels == 4)] = 0
            Image.fromarray(labels).save(target)
        else:
            target.write_bytes(path.read_bytes())
    return str(root)


@pytest.fixture(scope='module')
def stages(tmp_path_factory, data_root):
    """FCN-32s, then FCN-16s from it, then FCN-8s from that, by tools/train.py."""
    folder = tmp_path_factory.mktemp('stages')
    logs = {}
    previous = None
    for variant in STAGES:
        options = [f'load_from={previous / "iter_2.pth"}'] if previous else []
        work_dir = folder / variant
        logs[variant] = train(
            PLUGIN_TRAIN, write_config(folder, variant), work_dir, data_root, *options
        ).stdout
        previous = work_dir
    return folder, logs


@pytest.mark.parametrize(
    'coarse, fine, new_layer, pool',
    [
        ('32s', '16s', 'decode_head.skip_scores.stride16', 'pool4 (stride 16)'),
        ('16s', '8s', 'decode_head.skip_scores.stride8', 'pool3 (stride 8)'),
    ],
)
def test_staged_training_carries_every_trained_tensor(stages, coarse, fine, new_layer, pool):
    folder, logs = stages
    previous, started = trained(folder / coarse), start(folder / fine)
    assert_carried(previous, started)
    assert not torch.equal(
        previous['decode_head.conv_seg.weight'],
        start(folder / coarse)['decode_head.conv_seg.weight'],
    )
    for kind in ('weight', 'bias'):  # the new level starts at its zero init
        assert not started[f'{new_layer}.{kind}'].any()
        assert trained(folder / fine)[f'{new_layer}.{kind}'].any()  # and it trains
    assert f'FCN-{coarse} into FCN-{fine} (staged)' in logs[fine]
    assert (
        f'newly initialised: {new_layer} (new skip level {pool}, starts at zero: the net '
        "starts from the loaded net's predictions)" in logs[fine]
    )


def test_pool4s_trained_score_layer_reaches_the_fcn8s(stages):
    folder, _ = stages
    pool4 = 'decode_head.skip_scores.stride16.weight'
    assert torch.equal(start(folder / '8s')[pool4], trained(folder / '16s')[pool4])
    assert trained(folder / '16s')[pool4].any()


@pytest.mark.parametrize('coarse, fine', [('32s', '16s'), ('16s', '8s')])
def test_mmsegs_own_train_tool_carries_the_stages_by_key(stages, data_root, coarse, fine):
    folder, _ = stages
    work_dir = folder / f'mmseg_{fine}'
    train(
        MMSEG_TRAIN,
        write_config(folder, fine),
        work_dir,
        data_root,
        f'load_from={folder / coarse / "iter_2.pth"}',
    )
    previous, started = trained(folder / coarse), start(work_dir)
    assert_carried(previous, started)
    new = set(started) - set(previous)
    assert new and all(key.startswith('decode_head.skip_scores.') for key in new)
    assert not any(started[key].any() for key in new)


@pytest.mark.parametrize('tool', [PLUGIN_TRAIN, MMSEG_TRAIN], ids=['plugin', 'mmseg'])
@pytest.mark.parametrize('num_classes', [7, 3])
def test_fine_tuning_on_another_class_count(stages, data_root, three_class_root, tool, num_classes):
    folder, _ = stages
    work_dir = folder / f'{tool.parent.parent.name}_{num_classes}'
    root = three_class_root if num_classes == 3 else data_root
    log = train(
        tool,
        write_config(folder, '8s', num_classes),
        work_dir,
        root,
        f'load_from={folder / "8s" / "iter_2.pth"}',
    ).stdout
    previous, started = trained(folder / '8s'), start(work_dir)
    assert_carried(previous, started, skip=('decode_head.',))
    score_layers = ('conv_seg', 'skip_scores.stride8', 'skip_scores.stride16')
    for layer in score_layers:
        assert started[f'decode_head.{layer}.weight'].shape[0] == num_classes
        assert not started[f'decode_head.{layer}.weight'].any()
    assert trained(work_dir)['decode_head.conv_seg.weight'].shape[0] == num_classes
    if tool == PLUGIN_TRAIN:
        assert 'FCN-8s into FCN-8s' not in log
        assert f'5 -> {num_classes} classes' in log
        for layer in score_layers:
            assert f'decode_head.{layer} (5 -> {num_classes} classes)' in log


def test_a_finer_variant_is_refused_unless_the_config_drops_its_layers(stages, data_root):
    folder, _ = stages
    checkpoint = folder / '8s' / 'iter_2.pth'
    config = write_config(folder, '16s')
    refused = train(
        PLUGIN_TRAIN, config, folder / 'refused', data_root, f'load_from={checkpoint}', check=False
    )
    assert refused.returncode != 0
    assert (
        'The checkpoint is an FCN-8s but the config builds an FCN-16s: loading it '
        'would drop its trained layers decode_head.skip_scores.stride8 (skip level '
        'pool3 (stride 8) the config does not build)'
    ) in refused.stdout
    assert 'set load_from_drop_layers = True in the config' in refused.stdout
    assert not (folder / 'refused' / 'iter_2.pth').exists()
    work_dir = folder / 'dropped'
    log = train(
        PLUGIN_TRAIN,
        config,
        work_dir,
        data_root,
        f'load_from={checkpoint}',
        'load_from_drop_layers=True',
    ).stdout
    assert (
        'dropped from the checkpoint (load_from_drop_layers=True): decode_head.skip_scores.stride8'
    ) in log
    assert_carried(
        trained(folder / '8s'), start(work_dir), skip=('decode_head.skip_scores.stride8',)
    )


def test_another_backbone_is_refused_with_the_fix(stages, data_root):
    folder, _ = stages
    refused = train(
        PLUGIN_TRAIN,
        write_config(folder, '8s'),
        folder / 'wide',
        data_root,
        f'load_from={folder / "8s" / "iter_2.pth"}',
        'model.backbone.base_channels=8',
        'model.decode_head.in_channels=[32,64,16]',
        check=False,
    )
    assert refused.returncode != 0
    assert "Its backbone is not the config's (another depth or width)" in refused.stdout
    assert 'Shapes that differ (checkpoint vs model): backbone.blocks.0.0' in refused.stdout


@pytest.mark.parametrize('tool', [PLUGIN_TRAIN, MMSEG_TRAIN], ids=['plugin', 'mmseg'])
def test_a_staged_start_predicts_through_the_parents_scores_alone(stages, data_root, tool):
    """With ``score_init='normal'`` (random new score layers from scratch), the level
    that load_from adds still starts at zero, through either train tool: at iteration 0
    the FCN-16s' logits come from the FCN-32s' score map alone (pool4 adds exactly
    nothing, whatever its features), upsampled by the FCN-16s' 2x and 16x steps."""
    from mmengine.config import Config
    from mmseg.registry import MODELS

    folder, _ = stages
    work_dir = folder / f'normal_{tool.parent.parent.name}'
    config = write_config(folder, '16s', score_init='normal')
    log = train(tool, config, work_dir, data_root, f'load_from={folder / "32s" / "iter_2.pth"}')
    started = start(work_dir)
    parent = trained(folder / '32s')
    assert torch.equal(
        started['decode_head.conv_seg.weight'], parent['decode_head.conv_seg.weight']
    )
    for kind in ('weight', 'bias'):
        assert not started[f'decode_head.skip_scores.stride16.{kind}'].any()
    assert 'decode_head.skip_scores.stride16: new skip level, starts at zero' in log.stdout

    cfg = Config.fromfile(str(config))
    model = MODELS.build(cfg.model).eval()
    model.load_state_dict(started)
    image = torch.rand(1, 3, 45, 61)
    with torch.no_grad():
        levels = model.extract_feat(image)
        logits = model.decode_head(levels)
        other_pool4 = model.decode_head((torch.randn_like(levels[0]) * 100, levels[1]))
    assert logits.abs().max() > 0
    assert torch.equal(logits, other_pool4)


def test_a_staged_start_keeps_score_init_when_asked(stages, data_root):
    folder, _ = stages
    work_dir = folder / 'normal_kept'
    config = write_config(folder, '16s', score_init='normal')
    train(
        PLUGIN_TRAIN,
        config,
        work_dir,
        data_root,
        f'load_from={folder / "32s" / "iter_2.pth"}',
        'model.decode_head.zero_new_levels=False',
    )
    assert start(work_dir)['decode_head.skip_scores.stride16.weight'].any()
