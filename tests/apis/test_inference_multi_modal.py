"""Inference on the multi-modal models: each colour image's HHA or depth file found by the
config's naming rule or a named folder, read into the input the model was trained on,
and the same labels from ``infer_images`` and mmseg's ``inference_model``."""

from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.apis import inference_model, init_model
from PIL import Image

from mmseg_fcn_skip.apis import infer_images, resolve_dataset_meta
from mmseg_fcn_skip.apis.inference import (
    ModalityError,
    find_modality_files,
    pipeline_modalities,
)
from tests.helpers import REPO

CONFIGS = REPO / 'configs' / 'fcn_skip_caffe'
COLOUR_HHA = CONFIGS / 'fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-hha-fullsize.py'
COLOUR_D = CONFIGS / 'fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-d-fullsize.py'
COLOUR = CONFIGS / 'fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-fullsize.py'
MEANS = [116.190, 97.203, 92.318, 132.431, 94.076, 118.477]
SHAPE = (64, 80)  # a 3x3 grid of FCN-32s scores: labels that vary
IDS = ('img_5001', 'img_5002')


def light_two_stream_options():
    options = {}
    for stream in (0, 1):
        options[f'model.backbone.streams.{stream}.base_channels'] = 4
        options[f'model.backbone.streams.{stream}.fc_channels'] = 8
        options[f'model.backbone.streams.{stream}.init_cfg'] = None
        options[f'model.decode_head.streams.{stream}.in_channels'] = [8]
        options[f'model.decode_head.streams.{stream}.init_cfg'] = None
    return options


@pytest.fixture(scope='module')
def model():
    """The colour-HHA net, light, with random weights whose labels vary."""
    model = init_model(str(COLOUR_HHA), None, device='cpu', cfg_options=light_two_stream_options())
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.2)
    model.dataset_meta = resolve_dataset_meta(model.cfg, None, 40)
    return model.eval()


def write_pngs(folder: Path, seed: int, channels: int = 3) -> dict:
    """A random ``SHAPE`` PNG per id in ``folder``; the arrays as stored (RGB order)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {}
    for name in IDS:
        arrays[name] = rng.integers(0, 256, (*SHAPE, channels), dtype=np.uint8)
        Image.fromarray(arrays[name]).save(folder / f'{name}.png')
    return arrays


@pytest.fixture()
def nyud(tmp_path):
    """Colour and HHA images in the dataset's layout: ``images/``, ``hha/``."""
    return tmp_path, write_pngs(tmp_path / 'images', 1), write_pngs(tmp_path / 'hha', 2)


def expected_labels(model, colour_rgb: np.ndarray, hha: np.ndarray) -> np.ndarray:
    """The labels of the 6-channel input by hand: colour as BGR, HHA as stored, minus
    the two nets' means."""
    image = np.concatenate([colour_rgb[..., ::-1], hha], axis=2).astype(np.float32)
    inputs = torch.from_numpy(image).permute(2, 0, 1)[None] - torch.tensor(MEANS).view(6, 1, 1)
    meta = dict(img_shape=SHAPE, ori_shape=SHAPE, pad_shape=SHAPE)
    with torch.no_grad():
        return model.encode_decode(inputs, [meta]).argmax(1)[0].numpy()


def read_labels(path: Path) -> np.ndarray:
    return np.array(Image.open(path))


def test_the_modalities_each_test_pipeline_reads():
    assert pipeline_modalities(Config.fromfile(str(COLOUR))) == ()
    assert pipeline_modalities(Config.fromfile(str(COLOUR_HHA))) == ('hha',)
    assert pipeline_modalities(Config.fromfile(str(COLOUR_D))) == ('depth',)
    computed = Config.fromfile(str(COLOUR_HHA))
    computed.test_dataloader.dataset.pipeline = [
        dict(type='DepthToHHA', intrinsics=(500, 500, 10, 13)),
        dict(type='LoadMultiModalImage', modalities=('hha',)),
        dict(type='PackSegInputs'),
    ]
    assert pipeline_modalities(computed) == ('depth',)  # HHA is computed from depth


def test_infer_images_reads_each_image_hha_by_the_config_rule(model, nyud, tmp_path):
    root, colour, hha = nyud
    paths = sorted((root / 'images').glob('*.png'))
    summary = infer_images(model, paths, root / 'images', tmp_path / 'out', show_progress=False)
    assert (summary.written, summary.skipped, summary.failed) == (2, 0, [])
    for name in IDS:
        labels = read_labels(tmp_path / 'out' / 'pred' / f'{name}.png')
        assert labels.shape == SHAPE and labels.max() < 40
        assert np.array_equal(labels, expected_labels(model, colour[name], hha[name]))
        assert len(np.unique(labels)) > 1  # the labels vary: the comparison checks something
        overlay = read_labels(tmp_path / 'out' / 'vis' / f'{name}.png')
        assert overlay.shape == (*SHAPE, 3)


def test_a_named_folder_gives_the_hha_of_images_anywhere(model, nyud, tmp_path):
    root, colour, _ = nyud
    other_hha = write_pngs(tmp_path / 'elsewhere' / 'hha_v2', 3)
    photos = tmp_path / 'photos'
    photos.mkdir()
    for name in IDS:  # no hha/ folder next to photos/
        (photos / f'{name}.png').write_bytes((root / 'images' / f'{name}.png').read_bytes())
    infer_images(
        model,
        sorted(photos.glob('*.png')),
        photos,
        tmp_path / 'out',
        show_progress=False,
        modality_dirs=dict(hha=tmp_path / 'elsewhere' / 'hha_v2'),
    )
    for name in IDS:
        labels = read_labels(tmp_path / 'out' / 'pred' / f'{name}.png')
        assert np.array_equal(labels, expected_labels(model, colour[name], other_hha[name]))


def test_the_rule_follows_the_config_folder_and_suffix(nyud, tmp_path):
    root, *_ = nyud
    cfg = Config.fromfile(str(COLOUR_HHA))
    cfg.test_dataloader.dataset.modalities = dict(hha='hha_png')
    cfg.test_dataloader.dataset.modality_suffix = '.tif'
    paths = [root / 'images' / 'img_5001.png']
    with pytest.raises(ModalityError, match=r'hha file \S+/hha_png/img_5001\.tif of'):
        find_modality_files(cfg, paths, root / 'images')
    (root / 'hha_png').mkdir()
    (root / 'hha_png' / 'img_5001.tif').write_bytes(b'')
    files = find_modality_files(cfg, paths, root / 'images')
    assert files == {paths[0]: dict(hha=str(root / 'hha_png' / 'img_5001.tif'))}


def test_a_missing_hha_file_stops_before_anything_is_written(model, nyud, tmp_path):
    root, *_ = nyud
    (root / 'hha' / 'img_5002.png').unlink()
    (root / 'hha' / 'img_5001.png').unlink()
    paths = sorted((root / 'images').glob('*.png'))
    with pytest.raises(ModalityError) as error:
        infer_images(model, paths, root / 'images', tmp_path / 'out', show_progress=False)
    message = str(error.value)
    assert '\n' not in message
    assert message.startswith(
        f'hha file {root / "hha" / "img_5001.png"} of {root / "images" / "img_5001.png"} '
        "is missing (by the config's naming rule: the folder 'hha' next to the image's "
        'folder, 2 of 2 images lack theirs)'
    )
    assert '--modality hha=DIR' in message
    assert not (tmp_path / 'out').exists()


def test_a_folder_for_a_modality_the_model_does_not_read_is_refused(model, nyud, tmp_path):
    root, *_ = nyud
    paths = [root / 'images' / 'img_5001.png']
    with pytest.raises(ModalityError, match='--modality depth=.*reads no depth file .it reads hha'):
        infer_images(model, paths, root / 'images', tmp_path, modality_dirs=dict(depth=root))
    with pytest.raises(ModalityError, match='--modality hha=nowhere: nowhere is not a folder'):
        infer_images(model, paths, root / 'images', tmp_path, modality_dirs=dict(hha='nowhere'))
    colour_only = Config.fromfile(str(COLOUR))
    with pytest.raises(
        ModalityError, match=r'reads no hha file \(it takes colour images only\); drop the option'
    ):
        find_modality_files(colour_only, paths, root / 'images', dict(hha=root / 'hha'))


def test_a_damaged_hha_file_fails_that_image_only(model, nyud, tmp_path):
    root, colour, hha = nyud
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(root / 'hha' / 'img_5001.png')
    paths = sorted((root / 'images').glob('*.png'))
    summary = infer_images(model, paths, root / 'images', tmp_path / 'out', show_progress=False)
    assert summary.written == 1 and [p.name for p, _ in summary.failed] == ['img_5001.png']
    assert 'is 5x5 but its colour image' in summary.failed[0][1]
    labels = read_labels(tmp_path / 'out' / 'pred' / 'img_5002.png')
    assert np.array_equal(labels, expected_labels(model, colour['img_5002'], hha['img_5002']))


def test_mmseg_inference_model_reads_the_sibling_hha_of_an_image_path(model, nyud):
    root, colour, hha = nyud
    result = inference_model(model, str(root / 'images' / 'img_5002.png'))
    labels = result.pred_sem_seg.data[0].numpy()
    assert np.array_equal(labels, expected_labels(model, colour['img_5002'], hha['img_5002']))
    (root / 'hha' / 'img_5002.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'hha file \S+/hha/img_5002.png of .*missing'):
        inference_model(model, str(root / 'images' / 'img_5002.png'))
