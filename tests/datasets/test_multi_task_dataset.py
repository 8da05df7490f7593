"""MultiTaskSegDataset: mmseg's layouts plus each further task's labels (and modalities)."""

import shutil

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_fcn_skip.datasets import MultiTaskSegDataset, SiftFlowDataset
from tests.helpers.multi_task_data import (
    CLASSES,
    GEO_CLASSES,
    SPLITS,
    two_task_labels,
    write_two_task_dataset,
)

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LoadTaskAnnotations'),
    dict(type='PackMultiTaskInputs'),
]
META = dict(classes=CLASSES, task_classes=dict(geo=GEO_CLASSES))


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('my_dataset')
    return root, write_two_task_dataset(root)


def _build(data_root, split='train', **kwargs):
    init_default_scope('mmseg')
    cfg = dict(
        type='MultiTaskSegDataset',
        data_root=str(data_root),
        data_prefix=dict(img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'),
        task_seg_map_prefixes=dict(geo=f'geo_ann_dir/{split}'),
        metainfo=META,
        pipeline=PIPELINE,
    )
    return DATASETS.build(dict(cfg, **kwargs))


def test_a_folder_scan_gives_each_sample_both_tasks(data_root):
    root, labels = data_root
    dataset = _build(root)
    assert len(dataset) == len(SPLITS['train'])
    assert dataset.metainfo['classes'] == CLASSES
    assert dataset.metainfo['task_classes'] == dict(geo=GEO_CLASSES)
    info = dataset.get_data_info(1)
    assert info['img_path'] == str(root / 'img_dir' / 'train' / '0002.jpg')
    assert info['task_seg_map_paths'] == dict(geo=str(root / 'geo_ann_dir' / 'train' / '0002.png'))
    sample = dataset[1]['data_samples']
    semantic, geo = labels['train/0002']
    assert torch.equal(sample.gt_sem_seg.data[0], torch.from_numpy(semantic).long())
    assert torch.equal(sample.gt_geo_seg.data[0], torch.from_numpy(geo).long())


def test_an_ann_file_lists_names_with_subfolders(tmp_path):
    names = ('city_a/0001', 'city_b/0002')
    labels = write_two_task_dataset(tmp_path, {'val': names})
    (tmp_path / 'val.txt').write_text('city_b/0002\n')
    listed = _build(tmp_path, split='val', ann_file='val.txt')
    assert len(listed) == 1
    assert listed.get_data_info(0)['task_seg_map_paths'] == dict(
        geo=str(tmp_path / 'geo_ann_dir' / 'val' / 'city_b' / '0002.png')
    )
    geo = listed[0]['data_samples'].gt_geo_seg.data[0].numpy()
    assert np.array_equal(geo, labels['val/city_b/0002'][1])
    # the folder scan finds both, in subfolders, with the same relative names
    scanned = _build(tmp_path, split='val')
    assert [info['task_seg_map_paths']['geo'] for info in map(scanned.get_data_info, (0, 1))] == [
        str(tmp_path / 'geo_ann_dir' / 'val' / f'{name}.png') for name in names
    ]


def test_suffixes_and_an_absolute_task_folder(tmp_path):
    semantic, geo = two_task_labels(12, 10)
    for folder, array, suffix in (
        ('images', np.zeros((12, 10, 3), np.uint8), '_leftImg8bit.png'),
        ('labels', semantic, '_labelIds.png'),
    ):
        (tmp_path / folder).mkdir()
        Image.fromarray(array).save(tmp_path / folder / f'x{suffix}')
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    Image.fromarray(geo).save(elsewhere / 'x_labelIds.png')
    dataset = _build(
        tmp_path,
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        img_suffix='_leftImg8bit.png',
        seg_map_suffix='_labelIds.png',
        task_seg_map_prefixes=dict(geo=str(elsewhere)),
    )
    assert dataset.get_data_info(0)['task_seg_map_paths'] == dict(
        geo=str(elsewhere / 'x_labelIds.png')
    )
    assert np.array_equal(dataset[0]['data_samples'].gt_geo_seg.data[0].numpy(), geo)


def test_reduce_zero_label_and_the_class_map_touch_the_first_task_only(data_root):
    root, labels = data_root
    sample = _build(root, reduce_zero_label=True)[0]['data_samples']
    semantic, geo = labels['train/0001']
    expected = np.where((semantic == 0) | (semantic == 255), 255, semantic - 1)
    assert np.array_equal(sample.gt_sem_seg.data[0].numpy(), expected)
    assert np.array_equal(sample.gt_geo_seg.data[0].numpy(), geo)


def test_without_further_tasks_it_is_mmseg_s_dataset(data_root):
    root, _ = data_root
    dataset = _build(root, task_seg_map_prefixes=None, pipeline=[])
    assert dataset.get_data_info(0)['task_seg_map_paths'] == {}
    assert dataset.metainfo['task_classes'] == {}


def test_only_the_loaded_tasks_keep_their_classes(data_root):
    root, _ = data_root
    meta = dict(META, task_classes=dict(geo=GEO_CLASSES, depth=('near', 'far')))
    assert _build(root, metainfo=meta).metainfo['task_classes'] == dict(geo=GEO_CLASSES)


def test_missing_task_label_files_are_named_at_build(data_root, tmp_path):
    source, _ = data_root
    root = tmp_path / 'copy'
    shutil.copytree(source, root)
    (root / 'geo_ann_dir' / 'train' / '0003.png').unlink()
    (root / 'ann_dir' / 'train' / '0004.png').unlink()
    with pytest.raises(FileNotFoundError) as error:
        _build(root)
    message = str(error.value)
    assert message.startswith(
        f'MultiTaskSegDataset: 2 file(s) of the samples found in {root / "img_dir" / "train"} '
        f'are missing: {root / "geo_ann_dir" / "train" / "0003.png"}, '
        f'{root / "ann_dir" / "train" / "0004.png"}. '
    )
    assert "seg_map_suffix '.png'" in message and message.endswith('remove the samples.')
    (root / 'train.txt').write_text('0001\n0003\n')
    with pytest.raises(FileNotFoundError, match=r'1 file\(s\) .* listed in .*train\.txt.*'):
        _build(root, ann_file='train.txt')


def test_the_first_five_missing_files_are_named_and_the_rest_counted(data_root, tmp_path):
    source, _ = data_root
    root = tmp_path / 'copy'
    shutil.copytree(source, root)
    shutil.rmtree(root / 'geo_ann_dir')
    shutil.rmtree(root / 'ann_dir')
    with pytest.raises(FileNotFoundError) as error:
        _build(root)
    assert '8 file(s)' in str(error.value) and ' and 3 more.' in str(error.value)


def test_a_task_without_classes_is_refused_with_the_fix(data_root):
    with pytest.raises(ValueError) as error:
        _build(data_root[0], metainfo=dict(classes=CLASSES))
    assert str(error.value) == (
        "MultiTaskSegDataset: the tasks ['geo'] of task_seg_map_prefixes have no classes "
        "in metainfo['task_classes']; give them with "
        'metainfo=dict(task_classes=dict(<task>=(...)))'
    )


def test_the_first_task_s_classes_are_required(data_root):
    with pytest.raises(ValueError, match=r"metainfo has no 'classes'.*metainfo=dict\(classes="):
        _build(data_root[0], metainfo=dict(task_classes=dict(geo=GEO_CLASSES)))


def test_a_task_palette_needs_a_colour_per_class(data_root):
    meta = dict(META, task_palettes=dict(geo=[[0, 0, 0]]))
    with pytest.raises(ValueError, match=r"task_palettes'\]\['geo'\] has 1 colours for the 3"):
        _build(data_root[0], metainfo=meta)
    meta = dict(META, task_palettes=dict(geo=[[1, 2, 3], [4, 5, 6], [7, 8, 9]]))
    assert _build(data_root[0], metainfo=meta).metainfo['task_palettes'] == meta['task_palettes']


@pytest.mark.parametrize(
    'prefixes, match',
    [
        (dict(sem='ann_dir/train'), r"task name 'sem' is reserved"),
        ({'geo-2': 'geo_ann_dir/train'}, r"task name 'geo-2' is not a valid name"),
        ('geo_ann_dir/train', r"task_seg_map_prefixes='geo_ann_dir/train' must map each name"),
        (dict(geo=''), r'must map each name to its folder'),
    ],
)
def test_bad_task_prefixes_are_refused(data_root, prefixes, match):
    with pytest.raises(ValueError, match=match):
        _build(data_root[0], task_seg_map_prefixes=prefixes)


@pytest.fixture
def depth_root(data_root, tmp_path):
    """The dataset with a 16-bit depth map (mm) per image in depth_dir/<split>/."""
    source, _ = data_root
    root = tmp_path / 'rgbd'
    shutil.copytree(source, root)
    depths = {}
    for name in SPLITS['train']:
        height, width = np.asarray(Image.open(root / 'ann_dir' / 'train' / f'{name}.png')).shape
        depth = np.arange(1, height * width + 1, dtype=np.uint16).reshape(height, width)
        (root / 'depth_dir' / 'train').mkdir(parents=True, exist_ok=True)
        Image.fromarray(depth).save(root / 'depth_dir' / 'train' / f'{name}.png')
        depths[name] = depth
    return root, depths


def test_modalities_give_each_sample_its_files_for_load_multi_modal_image(depth_root):
    root, depths = depth_root
    pipeline = [dict(type='LoadMultiModalImage', modalities=('depth',))] + PIPELINE[1:]
    dataset = _build(root, modalities=dict(depth='depth_dir/train'), pipeline=pipeline)
    assert dataset.get_data_info(0)['modality_paths'] == dict(
        depth=str(root / 'depth_dir' / 'train' / '0001.png')
    )
    packed = dataset[0]
    image = packed['inputs']
    assert image.shape[0] == 4  # colour, then log(depth in mm)
    np.testing.assert_allclose(image[3].numpy(), np.log(depths['0001'].astype(float)), rtol=1e-6)
    assert packed['data_samples'].gt_geo_seg.data.shape[1:] == image.shape[1:]


def test_a_missing_modality_file_is_named_at_build(depth_root):
    root, _ = depth_root
    (root / 'depth_dir' / 'train' / '0002.png').unlink()
    with pytest.raises(FileNotFoundError) as error:
        _build(root, modalities=dict(depth='depth_dir/train'))
    assert str(root / 'depth_dir' / 'train' / '0002.png') in str(error.value)
    assert "modality_suffix '.png'" in str(error.value)


def test_an_unknown_modality_is_refused_naming_the_known_ones(data_root):
    with pytest.raises(ValueError, match=r"modalities \['ir'\] are unknown.*\('hha', 'depth'\)"):
        _build(data_root[0], modalities=dict(ir='ir_dir/train'))


def test_registered_and_sift_flow_is_one():
    assert DATASETS.get('MultiTaskSegDataset') is MultiTaskSegDataset
    assert issubclass(SiftFlowDataset, MultiTaskSegDataset)
