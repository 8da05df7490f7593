"""NYUDv2: the 40 classes, their colours (PASCAL VOC's bit colour map), the dataset's
check for missing files and its sibling modalities (datasets/nyud.py)."""

from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_fcn_skip.datasets import NYUD_CLASSES, NYUD_PALETTE, NYUDv2Dataset
from mmseg_fcn_skip.datasets.nyud import bit_palette


def test_the_palette_gives_each_class_a_distinct_voc_colour():
    assert len(NYUD_PALETTE) == len(NYUD_CLASSES) == 40
    # PASCAL VOC's colours of labels 1, 2, 3, 4, 8 and 40: classes 0..39 take 1..40.
    assert NYUD_PALETTE[:4] == [[128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128]]
    assert NYUD_PALETTE[7] == [64, 0, 0]
    assert NYUD_PALETTE[39] == [64, 0, 64]
    assert len({tuple(colour) for colour in NYUD_PALETTE}) == 40


def test_start_0_is_voc_black_for_label_0():
    assert bit_palette(2, start=0) == [[0, 0, 0], [128, 0, 0]]


def test_every_bit_of_the_index_is_spread_down_to_the_lowest_colour_bits():
    """24 index bits fill the 8 bits of R, G and B: the last of the 2**24 colours is
    white, and indices past 2**18 (which reach the lowest two bits) stay distinct."""
    assert bit_palette(1, start=2**24 - 1) == [[255, 255, 255]]
    assert bit_palette(3, start=2**18) == [[2, 0, 0], [130, 0, 0], [2, 128, 0]]
    assert bit_palette(1, start=2**21) == [[1, 0, 0]]


def _nyud_layout(root: Path, names, present, images_only=()) -> None:
    """Empty image and label files of the samples ``present`` (images alone of
    ``images_only``) and a split list ``train.txt`` of ``names``."""
    for folder in ('images', 'annotations'):
        (root / folder).mkdir(parents=True)
    for name in [*present, *images_only]:
        (root / 'images' / f'{name}.png').write_bytes(b'')
    for name in present:
        (root / 'annotations' / f'{name}.png').write_bytes(b'')
    (root / 'train.txt').write_text(''.join(f'{name}\n' for name in names))


def _build(root: Path):
    init_default_scope('mmseg')
    return DATASETS.build(
        dict(
            type='NYUDv2Dataset',
            data_root=str(root),
            data_prefix=dict(img_path='images', seg_map_path='annotations'),
            ann_file='train.txt',
            pipeline=[],
        )
    )


def test_a_listed_sample_without_files_is_named_when_the_dataset_is_built(tmp_path):
    _nyud_layout(tmp_path, ['img_1', 'img_2'], present=['img_1'])
    with pytest.raises(FileNotFoundError) as error:
        _build(tmp_path)
    assert str(error.value) == (
        f'NYUDv2: 2 file(s) of the samples listed in {tmp_path / "train.txt"} are missing: '
        f'{tmp_path / "images" / "img_2.png"}, {tmp_path / "annotations" / "img_2.png"}. '
        'Write the dataset with tools/dataset_converters/nyud.py (see docs/datasets/nyud.md; '
        '--depth for the depth maps) '
        'or remove the samples from the list.'
    )


@pytest.mark.parametrize('missing, more', [(5, ''), (6, ' and 1 more'), (8, ' and 3 more')])
def test_the_first_five_missing_files_are_named_and_the_rest_counted(tmp_path, missing, more):
    """Four samples (8 files), the first ``8 - missing`` with their image."""
    names = [f'img_{i}' for i in range(4)]
    _nyud_layout(tmp_path, names, present=[], images_only=names[: 8 - missing])
    paths = [
        str(tmp_path / folder / f'{name}.png')
        for index, name in enumerate(names)
        for folder in ('images', 'annotations')
        if folder == 'annotations' or index >= 8 - missing
    ]
    assert len(paths) == missing
    with pytest.raises(FileNotFoundError) as error:
        _build(tmp_path)
    message = str(error.value)
    assert message.startswith(f'NYUDv2: {missing} file(s) of the samples listed in ')
    assert f' are missing: {", ".join(paths[:5])}{more}. Write the dataset with ' in message


def test_a_complete_list_builds_with_the_40_classes(tmp_path):
    _nyud_layout(tmp_path, ['img_1', 'img_2'], present=['img_1', 'img_2'])
    dataset = _build(tmp_path)
    assert len(dataset) == 2
    assert dataset.metainfo['classes'] == NYUD_CLASSES
    assert dataset[0]['seg_map_path'] == str(tmp_path / 'annotations' / 'img_1.png')
    assert dataset[0]['reduce_zero_label'] is False


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
