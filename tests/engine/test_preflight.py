"""The preflight checks on configs alone: the lines a user would read, for each mistake."""

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import HOOKS

import mmseg_fcn_skip  # noqa: F401  (registers the datasets and the hook)
from mmseg_fcn_skip.engine.preflight import (
    NumClassesCheckHook,
    check_checkpoint_source,
    check_dataset_files,
    check_num_classes,
    dataset_classes,
    preflight_test,
    preflight_train,
)

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / 'configs' / 'fcn8s_toy.py'
TOY_CLASSES = 'background, disc, box, triangle, bar'
SHIPPED = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)


def toy_cfg(data_root: str, **options) -> Config:
    cfg = Config.fromfile(str(TOY))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    cfg.merge_from_dict(options)
    return cfg


@pytest.mark.parametrize('path', SHIPPED, ids=[p.relative_to(REPO).as_posix() for p in SHIPPED])
def test_every_shipped_config_agrees_with_its_datasets(path):
    cfg = Config.fromfile(str(path))
    assert check_num_classes(cfg, 'train') == []
    assert check_num_classes(cfg, 'test') == []


def test_too_few_classes_name_the_key_the_dataset_and_the_fix(toy_data_root):
    cfg = toy_cfg(toy_data_root, **{'model.decode_head.num_classes': 4})
    assert check_num_classes(cfg) == [
        'model.decode_head.num_classes is 4 but train_dataloader.dataset (ToyShapesDataset) '
        f'has 5 classes ({TOY_CLASSES}): labels above it would stop training with "Target '
        'out of bounds"; set model.decode_head.num_classes=5 in the config (or '
        '--cfg-options model.decode_head.num_classes=5)'
    ]


def test_too_many_classes_are_found_too(toy_data_root):
    cfg = toy_cfg(toy_data_root, **{'model.decode_head.num_classes': 6})
    (line,) = check_num_classes(cfg, 'test')
    assert line.startswith(
        'model.decode_head.num_classes is 6 but test_dataloader.dataset (ToyShapesDataset) '
        'has 5 classes'
    )
    assert 'its extra score maps would be trained on no pixel' in line


def test_auxiliary_heads_and_lists_of_heads_are_checked(toy_data_root):
    cfg = toy_cfg(toy_data_root)
    head = dict(type='FCNHead', in_channels=16, channels=8, num_classes=3)
    cfg.model.auxiliary_head = [head, dict(head, num_classes=5)]
    lines = check_num_classes(cfg)
    assert len(lines) == 1
    assert lines[0].startswith('model.auxiliary_head.0.num_classes is 3 but')
    assert lines[0].endswith('--cfg-options model.auxiliary_head.0.num_classes=5)')


def test_the_stream_heads_of_a_late_fusion_head_are_checked():
    path = 'fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-hha-fullsize.py'
    cfg = Config.fromfile(str(REPO / 'configs' / path))
    assert check_num_classes(cfg) == []
    cfg.model.decode_head.streams[1].num_classes = 39
    lines = check_num_classes(cfg)
    assert len(lines) == 1
    assert lines[0].startswith('model.decode_head.streams.1.num_classes is 39 but')
    assert lines[0].endswith('--cfg-options model.decode_head.streams.1.num_classes=40)')


def test_the_heads_of_further_tasks_are_checked_against_their_classes():
    path = 'fcn_skip_caffe/fcn16s_vgg16-caffe_1xb1-100k_siftflow-256x256.py'
    cfg = Config.fromfile(str(REPO / 'configs' / path))
    assert check_num_classes(cfg) == []
    cfg.model.task_heads.geo.num_classes = 4
    lines = check_num_classes(cfg)
    assert len(lines) == 1
    assert lines[0].startswith(
        'model.task_heads.geo.num_classes is 4 but train_dataloader.dataset (SiftFlowDataset) '
        "has 3 classes for task 'geo' (sky, horizontal, vertical): its extra score maps"
    )
    assert lines[0].endswith('--cfg-options model.task_heads.geo.num_classes=3)')
    # the config's metainfo names the task's classes too
    cfg.model.task_heads.geo.num_classes = 3
    cfg.train_dataloader.dataset.metainfo = dict(task_classes=dict(geo=('up', 'down')))
    assert check_num_classes(cfg)[0].startswith(
        'model.task_heads.geo.num_classes is 3 but train_dataloader.dataset (SiftFlowDataset) '
        "has 2 classes for task 'geo' (up, down): its extra score maps"
    )


def test_the_configs_metainfo_wins_over_the_dataset_class(toy_data_root):
    cfg = toy_cfg(toy_data_root, **{'model.decode_head.num_classes': 3})
    metainfo = dict(classes=('sky', 'sea', 'sand'))
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].dataset.metainfo = metainfo
    assert dataset_classes(cfg.train_dataloader.dataset) == ('sky', 'sea', 'sand')
    assert check_num_classes(cfg) == []


def test_wrapped_datasets_are_checked():
    cfg = Config.fromfile(str(REPO / 'configs' / 'fcn8s_voc.py'))
    cfg.model.decode_head.num_classes = 20
    lines = check_num_classes(cfg)
    assert lines[0].startswith(
        'model.decode_head.num_classes is 20 but '
        'train_dataloader.dataset.datasets.0 (PascalVOCDataset) has 21 classes'
    )


def test_a_missing_data_root(tmp_path):
    missing = str(tmp_path / 'nope')
    assert check_dataset_files(toy_cfg(missing), 'test') == [
        f"test_dataloader.dataset.data_root '{missing}' is not a folder; set data_root in "
        'the config (or --cfg-options test_dataloader.dataset.data_root=PATH)'
    ]


def test_a_missing_split_folder(toy_data_root):
    cfg = toy_cfg(
        toy_data_root, **{'train_dataloader.dataset.data_prefix.img_path': 'img_dir/tran'}
    )
    assert check_dataset_files(cfg) == [
        f'train_dataloader.dataset.data_prefix.img_path: the folder {toy_data_root}/img_dir/tran '
        'does not exist; set data_root in the config (or --cfg-options '
        'train_dataloader.dataset.data_root=PATH) or '
        'train_dataloader.dataset.data_prefix.img_path to the folder of the split'
    ]


def test_training_checks_the_validation_data_only_when_it_validates(toy_data_root):
    """val_dataloader is read in training when val_cfg is set; without val_cfg mmengine
    runs no validation, so its data is not checked."""
    options = {'val_dataloader.dataset.data_prefix.img_path': 'img_dir/vla'}
    cfg = toy_cfg(toy_data_root, **options)
    assert check_dataset_files(cfg, 'train') == [
        f'val_dataloader.dataset.data_prefix.img_path: the folder {toy_data_root}/img_dir/vla '
        'does not exist; set data_root in the config (or --cfg-options '
        'val_dataloader.dataset.data_root=PATH) or '
        'val_dataloader.dataset.data_prefix.img_path to the folder of the split'
    ]
    cfg.val_cfg = None
    assert check_dataset_files(cfg, 'train') == []


def test_a_split_folder_without_images(tmp_path):
    for folder in ('img_dir/val', 'ann_dir/val'):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / 'img_dir' / 'val' / 'a.jpg').write_bytes(b'')  # not the toy's .png
    assert check_dataset_files(toy_cfg(str(tmp_path)), 'test') == [
        f'test_dataloader.dataset.data_prefix.img_path: the folder {tmp_path}/img_dir/val '
        'holds no images (files ending in .png); put the images there or set '
        'test_dataloader.dataset.img_suffix to their ending'
    ]


def test_a_missing_annotation_file(toy_data_root):
    cfg = toy_cfg(toy_data_root, **{'test_dataloader.dataset.ann_file': 'val.txt'})
    assert check_dataset_files(cfg, 'test') == [
        f'test_dataloader.dataset.ann_file: {toy_data_root}/val.txt does not exist; set '
        "test_dataloader.dataset.ann_file to the split's list of names, or to '' to read "
        'every image in the folder'
    ]


def test_the_toy_data_passes(toy_data_root):
    cfg = toy_cfg(toy_data_root)
    assert preflight_train(cfg) == []
    assert preflight_test(cfg, 'fcn8s-heavy-pascal') == []


def test_a_misspelled_weights_name_gets_the_closest_names():
    assert check_checkpoint_source('fcn8s-heavy-pascall', 'load_from') == [
        "load_from 'fcn8s-heavy-pascall' is neither a checkpoint file nor a name of published "
        "weights (did you mean 'fcn8s-heavy-pascal' or 'fcn32s-heavy-pascal'?); give the path "
        'of a checkpoint, a name of docs/weights.md or an http(s) URL'
    ]


def test_a_missing_file_gets_the_closest_files(tmp_path):
    torch.save({'state_dict': {}}, tmp_path / 'iter_200.pth')
    given = f'{tmp_path}/iter_20.pth'
    assert check_checkpoint_source(given, 'checkpoint') == [
        f"checkpoint {given} does not exist (did you mean '{tmp_path}/iter_200.pth'?); check "
        'the path, or give a name of published weights (docs/weights.md) or an http(s) URL'
    ]


def test_a_damaged_file_is_named_with_the_fix(tmp_path):
    path = tmp_path / 'iter_2.pth'
    torch.save({'state_dict': {'w': torch.zeros(1000)}}, path)
    assert check_checkpoint_source(path, 'checkpoint') == []
    path.write_bytes(path.read_bytes()[:2000])
    assert check_checkpoint_source(path, 'load_from') == [
        f'load_from: checkpoint {path} is damaged (File is not a zip file): it was probably '
        'cut off while being written, or corrupted on disk; use an earlier checkpoint'
    ]


def test_urls_are_left_to_the_fetch():
    assert check_checkpoint_source('https://example.org/x/model.pth', 'load_from') == []


def test_the_hook_is_registered_and_stops_before_training(toy_data_root):
    hook = HOOKS.build(dict(type='NumClassesCheckHook'))
    assert isinstance(hook, NumClassesCheckHook)
    runner = SimpleNamespace(cfg=toy_cfg(toy_data_root))
    hook.before_train(runner)
    hook.before_test(runner)
    runner.cfg.model.decode_head.num_classes = 4
    with pytest.raises(ValueError, match=r'^model.decode_head.num_classes is 4 but'):
        hook.before_train(runner)
