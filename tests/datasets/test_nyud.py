"""NYUDv2Dataset's sibling modalities: the naming rule and missing files at build."""

import numpy as np
import pytest
from PIL import Image

from mmseg_fcn_skip.datasets import NYUDv2Dataset

IDS = ('img_5001', 'img_5002', 'img_5003')


@pytest.fixture()
def data_root(tmp_path):
    """mmseg's layout as the converter writes it, with depth maps."""
    for folder in ('images', 'hha', 'depth', 'annotations'):
        (tmp_path / folder).mkdir()
        for name in IDS:
            dtype = np.uint16 if folder == 'depth' else np.uint8
            shape = (4, 5) if folder in ('depth', 'annotations') else (4, 5, 3)
            Image.fromarray(np.ones(shape, dtype)).save(tmp_path / folder / f'{name}.png')
    (tmp_path / 'trainval.txt').write_text(''.join(f'{name}\n' for name in IDS))
    return tmp_path


def _dataset(data_root, **kwargs):
    return NYUDv2Dataset(
        data_root=str(data_root),
        data_prefix=dict(img_path='images', seg_map_path='annotations'),
        ann_file='trainval.txt',
        **kwargs,
    )


def test_modalities_name_the_same_file_in_each_modality_folder(data_root):
    dataset = _dataset(data_root, modalities=dict(hha='hha', depth='depth'))
    assert len(dataset) == 3
    info = dataset.get_data_info(1)
    assert info['img_path'] == str(data_root / 'images' / 'img_5002.png')
    assert info['modality_paths'] == dict(
        hha=str(data_root / 'hha' / 'img_5002.png'),
        depth=str(data_root / 'depth' / 'img_5002.png'),
    )


def test_a_modality_folder_may_be_absolute_and_any_name(data_root, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp('computed')
    for name in IDS:
        (elsewhere / f'{name}.png').write_bytes((data_root / 'hha' / f'{name}.png').read_bytes())
    dataset = _dataset(data_root, modalities=dict(hha=str(elsewhere)))
    assert dataset.get_data_info(0)['modality_paths'] == dict(hha=str(elsewhere / 'img_5001.png'))


def test_without_modalities_no_paths_are_added(data_root):
    assert 'modality_paths' not in _dataset(data_root).get_data_info(0)


def test_missing_modality_files_are_named_when_the_dataset_is_built(data_root):
    (data_root / 'depth' / 'img_5003.png').unlink()
    (data_root / 'hha' / 'img_5001.png').unlink()
    _dataset(data_root, modalities=dict(hha='hha'), lazy_init=True)  # nothing read yet
    with pytest.raises(FileNotFoundError) as error:
        _dataset(data_root, modalities=dict(hha='hha', depth='depth'))
    message = str(error.value)
    assert '2 file(s)' in message
    assert str(data_root / 'hha' / 'img_5001.png') in message
    assert str(data_root / 'depth' / 'img_5003.png') in message
    assert '--depth' in message
    with pytest.raises(FileNotFoundError, match='1 file'):
        _dataset(data_root, modalities=dict(depth='depth'))


@pytest.mark.parametrize('modalities', [dict(hha=''), ['hha'], dict(hha=3)])
def test_bad_modalities_show_the_form(data_root, modalities):
    with pytest.raises(ValueError, match=r"dict\(hha='hha'\) or dict\(depth='depth'\)"):
        _dataset(data_root, modalities=modalities)
