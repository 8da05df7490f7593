import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmseg_fcn_skip.apis import load_model, resolve_dataset_meta
from mmseg_fcn_skip.apis.model import check_device, default_palette
from mmseg_fcn_skip.checkpoints import CheckpointError
from tests.helpers.light_models import (
    DATASET_META,
    VGG11_BACKBONE,
    light_checkpoint,
    random_checkpoint,
    write_config,
)


@pytest.fixture(scope='module')
def fcn8s(tmp_path_factory) -> tuple:
    return light_checkpoint(tmp_path_factory.mktemp('fcn8s'), backbone=VGG11_BACKBONE)


def test_loads_every_weight_and_the_dataset_meta(fcn8s):
    config, checkpoint = fcn8s
    model = load_model(config, checkpoint)
    saved = torch.load(checkpoint)['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert model.dataset_meta['classes'] == DATASET_META['classes']
    assert model.dataset_meta['palette'] == DATASET_META['palette']
    assert not model.training
    assert model.cfg.model.decode_head.num_classes == 5


def test_a_checkpoint_of_another_class_count_names_both_counts(fcn8s, tmp_path):
    _, other = light_checkpoint(tmp_path, num_classes=3, backbone=VGG11_BACKBONE)
    with pytest.raises(
        CheckpointError, match=re.escape(f'checkpoint {other} does not fit the model')
    ) as error:
        load_model(fcn8s[0], other)
    message = str(error.value)
    assert 'predicts 3 classes but the config has num_classes=5' in message
    assert 'decode_head.conv_seg.weight (3, 32, 1, 1) vs (5, 32, 1, 1)' in message
    assert 'set model.decode_head.num_classes=3' in message


def test_a_checkpoint_of_another_variant_names_the_keys(fcn8s, tmp_path):
    _, fcn16s = light_checkpoint(tmp_path, '16s', backbone=VGG11_BACKBONE)
    with pytest.raises(
        CheckpointError,
        match=re.escape(
            'The checkpoint is an FCN-16s (1 skip levels) but the config builds an FCN-8s (2)'
        ),
    ) as error:
        load_model(fcn8s[0], fcn16s)
    message = str(error.value)

    # pool4's score layer has one name in both: only pool3's is missing
    assert 'Shapes that differ' not in message
    assert (
        'Keys the checkpoint lacks: decode_head.skip_scores.stride8.bias, '
        'decode_head.skip_scores.stride8.weight' in message
    )
    with pytest.raises(
        CheckpointError,
        match='Keys the model lacks: decode_head.skip_scores'
        r'.stride8.bias, decode_head.skip_scores.stride8.weight',
    ):
        load_model(write_config(tmp_path, '16s', backbone=VGG11_BACKBONE), fcn8s[1])


def test_a_bare_data_parallel_state_dict_loads_with_the_config_meta(fcn8s, tmp_path):
    state_dict = torch.load(fcn8s[1])['state_dict']
    path = tmp_path / 'bare.pth'
    torch.save({f'module.{key}': value for key, value in state_dict.items()}, path)
    model = load_model(fcn8s[0], path)
    assert torch.equal(model.decode_head.conv_seg.weight, state_dict['decode_head.conv_seg.weight'])
    # No meta in the file: the classes come from the config's ToyShapesDataset.
    assert model.dataset_meta['classes'] == DATASET_META['classes']


def test_cfg_options_change_the_model_before_loading(fcn8s):
    with pytest.raises(
        CheckpointError, match='predicts 5 classes but the config has num_classes=4'
    ):
        load_model(fcn8s[0], fcn8s[1], cfg_options={'model.decode_head.num_classes': 4})


def test_dataset_meta_falls_back_to_numbered_classes_and_checks_the_count():
    cfg = Config(dict(model=dict()))
    meta = resolve_dataset_meta(cfg, None, 3)
    assert meta['classes'] == ('class_0', 'class_1', 'class_2')
    assert meta['palette'] == default_palette(3)
    assert meta['palette'][0] == [0, 0, 0]
    with pytest.raises(ValueError, match='names 5 classes but the model predicts 21'):
        resolve_dataset_meta(cfg, DATASET_META, 21)


def test_the_config_dataset_metainfo_overrides_its_class_meta():
    cfg = Config(
        dict(
            test_dataloader=dict(
                dataset=dict(
                    type='ToyShapesDataset',
                    metainfo=dict(classes=('sky', 'sea', 'sand', 'rock', 'tree')),
                )
            )
        )
    )
    meta = resolve_dataset_meta(cfg, None, 5)
    assert meta['classes'] == ('sky', 'sea', 'sand', 'rock', 'tree')
    assert meta['palette'] == DATASET_META['palette']  # the class's own palette


def test_a_short_palette_is_replaced():

    short = dict(classes=('a', 'b'), palette=[[1, 2, 3]])
    meta = resolve_dataset_meta(Config(), short, 2)
    assert meta['palette'] == default_palette(2)


def test_devices_are_checked_before_building(monkeypatch, fcn8s):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available .* use device 'cpu'"):
        load_model(fcn8s[0], fcn8s[1], device='cuda:0')
    with pytest.raises(ValueError, match="device='gpu' is not supported"):
        check_device('gpu')
    check_device('cpu')


def test_a_pickled_model_is_not_taken_for_a_checkpoint(fcn8s, tmp_path):
    path = tmp_path / 'model.pth'
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(CheckpointError, match='holds no state dict .* found Linear'):
        load_model(fcn8s[0], path)


def test_a_missing_checkpoint_is_reported(fcn8s, tmp_path: Path):
    with pytest.raises(CheckpointError, match='missing.pth does not exist'):
        load_model(fcn8s[0], tmp_path / 'missing.pth')


def test_save_checkpoint_is_reproducible(tmp_path):
    config = write_config(tmp_path)
    first = torch.load(random_checkpoint(config, tmp_path / 'a.pth'))['state_dict']
    second = torch.load(random_checkpoint(config, tmp_path / 'b.pth'))['state_dict']
    assert all(torch.equal(first[key], second[key]) for key in first)


def test_the_default_palette_is_the_same_in_every_run():
    # a model whose checkpoint names no palette draws these colours, run after run
    assert default_palette(4) == [[0, 0, 0], [92, 100, 41], [48, 35, 71], [214, 177, 236]]
    colours = default_palette(50)
    assert colours[0] == [0, 0, 0] and all(32 <= c < 256 for rgb in colours[1:] for c in rgb)
