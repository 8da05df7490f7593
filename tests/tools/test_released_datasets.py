"""PASCAL-Context and NYUDv2 from their original layouts: tools/dataset_converters/
pascal_context.py and nyud.py on tiny synthetic releases (.mat label files), then
tools/train.py (2 iterations) and tools/test.py with the Caffe-exact configs."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.datasets import PascalContextDataset59
from mmseg.registry import DATASETS
from PIL import Image
from scipy.io import savemat

REPO = Path(__file__).resolve().parents[2]
CONTEXT_CONFIG = 'configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-400k_pascal-context-59-fullsize.py'
NYUD_COLOUR = 'configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-fullsize.py'
NYUD_HHA = 'configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-hha-fullsize.py'
SHAPE = (21, 27)
MMSEG_CONTEXT = PascalContextDataset59.METAINFO['classes']
# labels.txt of the release spells these three as mmseg does; 59_labels.txt otherwise.
RELEASE_SPELLING = {'table': 'diningtable', 'bedclothes': 'bedcloth', 'cloth': 'clothes'}


def load_tool(name):
    path = REPO / 'tools' / 'dataset_converters' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'{name}_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def light_options(data_root, work_dir, extra=()):
    options = {
        'model.backbone.fc_channels': 8,
        'model.decode_head.in_channels': '[8]',
        'model.backbone.init_cfg': None,
        'train_cfg.max_iters': 2,
        'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.logger.interval': 1,
        'work_dir': str(work_dir),
    }
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.dataset.data_root'] = str(data_root)
        options[f'{loader}.num_workers'] = 0
        options[f'{loader}.persistent_workers'] = False
    return ['--cfg-options', *[f'{k}={v}' for k, v in options.items()], *extra]


def write_image(path, seed, shape=SHAPE):
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*shape, 3), dtype=np.uint8)).save(path)


@pytest.fixture(scope='module')
def context_release(tmp_path_factory):
    """A tiny VOC2010 + PASCAL-Context release: 3 train, 2 val images, one of them
    without a label map; 459 labels of which the 59 classes are some."""
    root = tmp_path_factory.mktemp('context')
    voc, context = root / 'VOC2010', root / 'context'
    # labels.txt: fillers around the 59 classes, in an order of its own.
    names = [f'thing{i}' for i in range(459 - 59)] + list(MMSEG_CONTEXT)
    names = [names[i] for i in np.random.default_rng(0).permutation(len(names))]
    (context / 'trainval').mkdir(parents=True)
    (context / 'labels.txt').write_text(''.join(f'{i + 1}: {n}\n' for i, n in enumerate(names)))
    released = ['background'] + [RELEASE_SPELLING.get(n, n) for n in MMSEG_CONTEXT]
    (context / '59_labels.txt').write_text(''.join(f'{i}: {n}\n' for i, n in enumerate(released)))
    train, val = ['2008_000001', '2008_000002', '2008_000003'], ['2008_000004', '2008_000005']
    (voc / 'ImageSets' / 'Main').mkdir(parents=True)
    (voc / 'ImageSets' / 'Main' / 'train.txt').write_text('\n'.join(train) + '\n')
    (voc / 'ImageSets' / 'Main' / 'val.txt').write_text('\n'.join(val) + '\n')
    label_maps = {}
    for seed, image_id in enumerate(train + val):
        write_image(voc / 'JPEGImages' / f'{image_id}.jpg', seed)
        if image_id == '2008_000003':
            continue  # no label map: left out of the split
        rng = np.random.default_rng(seed)
        label_maps[image_id] = rng.integers(1, 460, SHAPE).astype(np.uint16)
        savemat(str(context / 'trainval' / f'{image_id}.mat'), dict(LabelMap=label_maps[image_id]))
    return voc, context, names, label_maps


def test_context_converter_maps_the_459_labels_to_mmseg_classes(context_release, tmp_path):
    voc, context, names, label_maps = context_release
    load_tool('pascal_context').main([str(voc), str(context), '--out-dir', str(tmp_path)])
    splits = tmp_path / 'ImageSets' / 'SegmentationContext'
    assert (splits / 'train.txt').read_text().split() == ['2008_000001', '2008_000002']
    assert (splits / 'val.txt').read_text().split() == ['2008_000004', '2008_000005']
    for image_id, label_map in label_maps.items():
        png = np.array(Image.open(tmp_path / 'SegmentationClassContext' / f'{image_id}.png'))
        expected = np.zeros(SHAPE, dtype=np.uint8)
        for value in np.unique(label_map):
            name = names[value - 1]
            if name in MMSEG_CONTEXT:
                expected[label_map == value] = MMSEG_CONTEXT.index(name) + 1
        assert np.array_equal(png, expected)
        assert 0 < (png == 0).sum() < png.size


def test_context_converter_names_classes_it_cannot_find(context_release, tmp_path):
    voc, context, _, _ = context_release
    classes = tmp_path / 'classes.txt'
    classes.write_text('background\naeroplane\nunicorn\n')
    with pytest.raises(ValueError, match=r"the classes \['unicorn'\] are not among"):
        load_tool('pascal_context').main(
            [str(voc), str(context), '--classes', str(classes), '--out-dir', str(tmp_path)]
        )


def test_context_trains_and_tests_from_the_converted_release(context_release, tmp_path):
    voc, context, _, _ = context_release
    run_tool('tools/dataset_converters/pascal_context.py', str(voc), str(context))
    work_dir = tmp_path / 'work'
    run_tool('tools/train.py', CONTEXT_CONFIG, *light_options(voc, work_dir))
    assert (work_dir / 'iter_2.pth').is_file()
    result = run_tool(
        'tools/test.py', CONTEXT_CONFIG, str(work_dir / 'iter_2.pth'), *light_options(voc, work_dir)
    )
    assert 'mIoU' in result.stdout + result.stderr


@pytest.fixture(scope='module')
def nyud_release(tmp_path_factory):
    """The reference's NYUDv2 layout: 2 train, 1 val, 2 test images."""
    root = tmp_path_factory.mktemp('nyud')
    splits = {'train': ['5001', '5002'], 'val': ['5003'], 'test': ['5004', '5005']}
    labels = {}
    for split, ids in splits.items():
        (root / f'{split}.txt').write_text('\n'.join(ids) + '\n')
        for image_id in ids:
            seed = int(image_id)
            write_image(root / 'data' / 'images' / f'img_{image_id}.png', seed)
            write_image(root / 'data' / 'hha' / f'img_{image_id}.png', seed + 1)
            labels[image_id] = np.random.default_rng(seed).integers(0, 41, SHAPE).astype(np.uint8)
            (root / 'segmentation').mkdir(exist_ok=True)
            savemat(
                str(root / 'segmentation' / f'img_{image_id}.mat'),
                dict(segmentation=labels[image_id]),
            )
    return root, labels


@pytest.fixture(scope='module')
def nyud_data(nyud_release, tmp_path_factory):
    out = tmp_path_factory.mktemp('nyudv2')
    load_tool('nyud').main([str(nyud_release[0]), '--out-dir', str(out)])
    return out


def test_nyud_converter_writes_mmseg_layout(nyud_release, nyud_data):
    root, labels = nyud_release
    assert (nyud_data / 'trainval.txt').read_text().split() == ['img_5001', 'img_5002', 'img_5003']
    assert (nyud_data / 'test.txt').read_text().split() == ['img_5004', 'img_5005']
    for image_id, label in labels.items():
        png = np.array(Image.open(nyud_data / 'annotations' / f'img_{image_id}.png'))
        assert np.array_equal(png[label == 0], np.full((label == 0).sum(), 255))
        assert np.array_equal(png[label > 0], label[label > 0] - 1)
        for modality in ('images', 'hha'):
            copied = nyud_data / modality / f'img_{image_id}.png'
            assert copied.read_bytes() == (root / 'data' / modality / copied.name).read_bytes()


def test_nyud_converter_names_a_missing_label_file(nyud_release, tmp_path):
    root = tmp_path / 'release'
    subprocess.run(['cp', '-r', str(nyud_release[0]), str(root)], check=True)
    (root / 'segmentation' / 'img_5003.mat').unlink()
    with pytest.raises(FileNotFoundError, match='img_5003.mat does not exist'):
        load_tool('nyud').main([str(root), '--out-dir', str(tmp_path / 'out')])


def test_nyud_dataset_names_missing_files_when_built(nyud_data, tmp_path):
    data = tmp_path / 'nyudv2'
    subprocess.run(['cp', '-r', str(nyud_data), str(data)], check=True)
    (data / 'annotations' / 'img_5002.png').unlink()
    (data / 'hha' / 'img_5001.png').unlink()
    cfg = Config.fromfile(str(REPO / NYUD_HHA)).train_dataloader.dataset
    cfg.update(data_root=str(data), pipeline=[])
    with pytest.raises(FileNotFoundError) as error:
        DATASETS.build(cfg)
    message = str(error.value)
    assert '2 file(s)' in message and 'tools/dataset_converters/nyud.py' in message
    assert str(data / 'hha' / 'img_5001.png') in message
    assert str(data / 'annotations' / 'img_5002.png') in message
    dataset = DATASETS.build(dict(cfg, ann_file='test.txt'))
    assert len(dataset) == 2 and dataset.metainfo['classes'][:3] == ('wall', 'floor', 'cabinet')


def test_hha_is_fed_in_the_stored_channel_order(nyud_data):
    from mmseg.apis import init_model

    model = init_model(
        str(REPO / NYUD_HHA),
        None,
        device='cpu',
        cfg_options={'model.backbone.fc_channels': 8, 'model.decode_head.in_channels': [8]},
    )
    path = nyud_data / 'hha' / 'img_5004.png'  # the first test image
    stored = torch.from_numpy(np.array(Image.open(path))).permute(2, 0, 1).float()
    cfg = Config.fromfile(str(REPO / NYUD_HHA)).test_dataloader.dataset
    cfg.update(data_root=str(nyud_data))
    sample = DATASETS.build(cfg)[0]  # read by mmseg (BGR), as in testing
    fed = model.data_preprocessor(
        dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']])
    )
    mean = torch.tensor([132.431, 94.076, 118.477]).view(3, 1, 1)
    torch.testing.assert_close(fed['inputs'][0], stored - mean)


def test_nyud_trains_and_tests_colour_and_hha(nyud_data, tmp_path):
    work_dir = tmp_path / 'work'
    run_tool('tools/train.py', NYUD_COLOUR, *light_options(nyud_data, work_dir))
    checkpoint = str(work_dir / 'iter_2.pth')
    for config in (NYUD_COLOUR, NYUD_HHA):
        result = run_tool('tools/test.py', config, checkpoint, *light_options(nyud_data, work_dir))
        assert 'mIoU' in result.stdout + result.stderr
