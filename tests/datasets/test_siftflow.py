"""SiftFlowDataset on the converter's output of a tiny synthetic release."""

import importlib.util
import shutil

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_fcn_skip.apis.inference import save_label_png
from mmseg_fcn_skip.datasets import (
    SIFTFLOW_CLASSES,
    SIFTFLOW_GEO_CLASSES,
    SIFTFLOW_TEST_ABSENT,
    SiftFlowDataset,
)
from tests.helpers import REPO
from tests.helpers.siftflow_release import TEST, TRAINVAL, write_release

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LoadTaskAnnotations'),
    dict(type='PackMultiTaskInputs'),
]


@pytest.fixture(scope='module')
def siftflow(tmp_path_factory):
    """The converted tiny release and its released labels."""
    root = tmp_path_factory.mktemp('release')
    labels = write_release(root)
    path = REPO / 'tools' / 'dataset_converters' / 'siftflow.py'
    spec = importlib.util.spec_from_file_location('siftflow_tool', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path_factory.mktemp('siftflow')
    tool.main([str(root), '--out-dir', str(out)])
    return out, labels


def _build(data_root, **kwargs):
    init_default_scope('mmseg')
    cfg = dict(
        type='SiftFlowDataset',
        data_root=str(data_root),
        data_prefix=dict(img_path='images', seg_map_path='annotations'),
        ann_file='trainval.txt',
        pipeline=PIPELINE,
    )
    return DATASETS.build(dict(cfg, **kwargs))


def test_classes_in_the_reference_order():
    assert len(SIFTFLOW_CLASSES) == 33
    assert SIFTFLOW_CLASSES[:3] == ('awning', 'balcony', 'bird')
    assert SIFTFLOW_CLASSES.index('sky') == 27 and SIFTFLOW_CLASSES[-1] == 'window'
    assert set(SIFTFLOW_TEST_ABSENT) < set(SIFTFLOW_CLASSES)
    assert SIFTFLOW_GEO_CLASSES == ('sky', 'horizontal', 'vertical')


def test_samples_carry_both_tasks(siftflow):
    data_root, labels = siftflow
    dataset = _build(data_root)
    assert len(dataset) == len(TRAINVAL)
    assert dataset.metainfo['task_classes'] == dict(geo=SIFTFLOW_GEO_CLASSES)
    info = dataset.get_data_info(0)
    assert info['task_seg_map_paths'] == dict(
        geo=str(data_root / 'geo_annotations' / 'coast_n1.png')
    )
    sample = dataset[0]['data_samples']
    semantic, geometric = labels['coast_n1']
    assert torch.equal(
        sample.gt_sem_seg.data[0], torch.from_numpy(np.where(semantic == 0, 255, semantic - 1))
    )
    assert torch.equal(
        sample.gt_geo_seg.data[0], torch.from_numpy(np.where(geometric == -1, 255, geometric - 1))
    )
    assert len(_build(data_root, ann_file='test.txt')) == len(TEST)


def test_geometric_labels_show_sky_blue_ground_brown_upright_grey(siftflow, tmp_path):
    """The dataset's geometric palette, as ``fcn-infer`` writes it into the label PNGs
    of ``OUT/pred_geo/`` (docs/datasets/siftflow.md)."""
    palette = _build(siftflow[0]).metainfo['task_palettes']['geo']
    path = tmp_path / 'geo.png'
    save_label_png(np.array([[0, 1, 2]]), palette, path)
    png = Image.open(path)
    assert png.getpalette()[:9] == [70, 130, 180, 140, 100, 40, 128, 128, 128]
    assert np.array(png.convert('RGB')).tolist() == [
        [[70, 130, 180], [140, 100, 40], [128, 128, 128]]
    ]


def test_semantic_only(siftflow):
    dataset = _build(siftflow[0], task_seg_map_prefixes={}, pipeline=[])
    assert (
        'task_seg_map_paths' not in dataset.get_data_info(0)
        or not dataset.get_data_info(0)['task_seg_map_paths']
    )
    assert dataset.metainfo['task_classes'] == {}


def test_a_task_without_classes_is_refused(siftflow):
    with pytest.raises(ValueError, match=r"tasks \['depth'\].*task_classes"):
        _build(siftflow[0], task_seg_map_prefixes=dict(depth='depth'), pipeline=[])


def test_missing_task_label_file_is_named_at_build(siftflow, tmp_path):
    data_root = tmp_path / 'siftflow'
    shutil.copytree(siftflow[0], data_root)
    (data_root / 'geo_annotations' / 'forest_n2.png').unlink()
    with pytest.raises(FileNotFoundError) as error:
        _build(data_root)
    message = str(error.value)
    assert (
        '1 file(s)' in message and str(data_root / 'geo_annotations' / 'forest_n2.png') in message
    )
    assert 'tools/dataset_converters/siftflow.py' in message


def test_registered():
    assert DATASETS.get('SiftFlowDataset') is SiftFlowDataset
