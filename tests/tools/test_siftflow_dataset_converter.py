"""tools/dataset_converters/siftflow.py on a tiny synthetic SiftFlowDataset.zip."""

import importlib.util

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from tests.helpers import REPO
from tests.helpers.siftflow_release import SUBFOLDER, TEST, TRAINVAL, write_release, zip_release


def _tool():
    path = REPO / 'tools' / 'dataset_converters' / 'siftflow.py'
    spec = importlib.util.spec_from_file_location('siftflow_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp('release')
    return root, write_release(root)


@pytest.mark.parametrize('as_zip', [True, False], ids=['zip', 'folder'])
def test_converter_writes_mmseg_layout(release, tmp_path, capsys, as_zip):
    root, labels = release
    source = zip_release(root, tmp_path / 'SiftFlowDataset.zip') if as_zip else root
    out = tmp_path / 'siftflow'
    _tool().main([str(source), '--out-dir', str(out)])
    assert (out / 'trainval.txt').read_text().split() == list(TRAINVAL)
    assert (out / 'test.txt').read_text().split() == list(TEST)
    assert 'trainval: 3 images (left out, unannotated: highway_bost181)' in capsys.readouterr().out
    for name, (semantic, geometric) in labels.items():
        sem = np.array(Image.open(out / 'annotations' / f'{name}.png'))
        geo = np.array(Image.open(out / 'geo_annotations' / f'{name}.png'))
        assert sem.dtype == geo.dtype == np.uint8
        assert np.array_equal(sem, np.where(semantic == 0, 255, semantic - 1))
        assert np.array_equal(geo, np.where(geometric == -1, 255, geometric - 1))
        assert tuple(sem[0, :3]) == (255, 0, 32) and tuple(geo[0, :2]) == (255, 2)
        released = root / 'SiftFlowDataset' / 'Images' / SUBFOLDER / f'{name}.jpg'
        assert (out / 'images' / f'{name}.jpg').read_bytes() == released.read_bytes()


def test_lists_dir_and_missing_files_are_named(release, tmp_path):
    root, _ = release
    lists = tmp_path / 'lists'
    lists.mkdir()
    (lists / 'trainval.txt').write_text('coast_n1\ncoast_missing\n')
    (lists / 'test.txt').write_text('highway_n4\n')
    with pytest.raises(FileNotFoundError, match=r'Images/.*/coast_missing.jpg of trainval.txt'):
        _tool().main([str(root), '--lists-dir', str(lists), '--out-dir', str(tmp_path / 'o')])
    with pytest.raises(FileNotFoundError, match='--lists-dir'):
        _tool().main([str(root), '--lists-dir', str(tmp_path), '--out-dir', str(tmp_path / 'o')])
    with pytest.raises(FileNotFoundError, match='no Images/ folder'):
        _tool().main([str(lists), '--out-dir', str(tmp_path / 'o')])


def test_bad_label_values_are_named(tmp_path):
    tool = _tool()
    path = tmp_path / 'bad.mat'
    savemat(path, dict(S=np.full((2, 2), 34)))
    with pytest.raises(
        ValueError, match=r'bad.mat has labels in \[34, 34\]; expected 0 \(void\) and 1..33'
    ):
        tool.read_label(path, 33, (0,))
    savemat(path, dict(L=np.zeros((2, 2))))
    with pytest.raises(ValueError, match='holds no "S"'):
        tool.read_label(path, 3, (-1, 0))
