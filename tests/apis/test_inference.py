from pathlib import Path

import mmcv
import numpy as np
import pytest
import torch.nn.functional as F
from mmengine.config import Config
from mmseg.apis import inference_model
from PIL import Image

from mmseg_fcn_skip.apis import (
    build_inference_pipeline,
    find_images,
    infer_images,
    load_model,
    plan_batches,
    predict_labels,
)
from mmseg_fcn_skip.apis.inference import blend, colorize, output_paths, preprocess, save_label_png
from mmseg_fcn_skip.datasets import TOY_SHAPES_PALETTE
from tests.helpers.images import blob_image, write_images
from tests.helpers.light_models import light_checkpoint

#: Odd sizes and aspect ratios from 1:3 to 4:1.
SIZES = [(37, 53), (64, 96), (101, 67), (64, 96), (30, 90), (120, 30)]


@pytest.fixture(scope='module', params=['same', 'caffe'])
def model(request, tmp_path_factory):
    config, checkpoint = light_checkpoint(
        tmp_path_factory.mktemp(request.param), pad_mode=request.param
    )
    return load_model(config, checkpoint)


@pytest.fixture(scope='module')
def same_model(tmp_path_factory):
    """One pad mode is enough where only the file handling is tested."""
    return load_model(*light_checkpoint(tmp_path_factory.mktemp('same')))


@pytest.fixture(scope='module')
def images():
    rng = np.random.default_rng(1)
    return [blob_image(height, width, rng) for height, width in SIZES]


def test_equal_sizes_in_one_batch_give_the_batch_size_1_labels(model, images):
    pipeline = build_inference_pipeline(model.cfg)
    equal = [images[1], images[3]]
    singles = [predict_labels(model, pipeline, [image])[0] for image in equal]
    batched = predict_labels(model, pipeline, equal)
    for single, label in zip(singles, batched):
        assert np.array_equal(single, label)
    assert len(np.unique(singles[0])) > 1  # a prediction that varies over the image


def test_padded_mixed_batches_give_a_label_map_per_image_size(model, images):
    pipeline = build_inference_pipeline(model.cfg)
    labels = predict_labels(model, pipeline, images)
    assert [label.shape for label in labels] == SIZES
    # The largest image is not padded, so its labels are those of batch size 1.
    largest = predict_labels(model, pipeline, [images[2]])[0]
    padded = predict_labels(model, pipeline, [images[0], images[2]])
    assert np.array_equal(padded[1], largest)
    # The others only differ where the receptive field reaches the padding.
    alone = predict_labels(model, pipeline, [images[0]])[0]
    assert (padded[0] == alone).mean() > 0.8


def test_padding_by_the_data_preprocessor_is_cut_off_as_mmseg_does(tmp_path, images):
    """With test_cfg=dict(size_divisor=32) the preprocessor pads each image before the
    batch is padded; both paddings are cut off: labels equal mmseg's inference_model."""
    config, checkpoint = light_checkpoint(tmp_path)
    model = load_model(
        config, checkpoint, cfg_options={'model.data_preprocessor.test_cfg': dict(size_divisor=32)}
    )
    pipeline = build_inference_pipeline(model.cfg)
    for image in images[:3]:
        expected = inference_model(model, image).pred_sem_seg.data[0].numpy()
        assert np.array_equal(predict_labels(model, pipeline, [image])[0], expected)
    batch = predict_labels(model, pipeline, [images[1], images[3]])  # equal sizes
    for image, label in zip([images[1], images[3]], batch):
        assert np.array_equal(label, inference_model(model, image).pred_sem_seg.data[0].numpy())


def test_the_test_pipeline_resize_is_undone(model, images):
    cfg = Config(model.cfg.to_dict())
    pipeline = cfg.test_dataloader.dataset.pipeline
    loader = [t['type'] for t in pipeline].index('LoadImageFromFile')
    pipeline.insert(loader + 1, dict(type='Resize', scale=(40, 30), keep_ratio=True))
    resizing = build_inference_pipeline(cfg)
    labels = [predict_labels(model, resizing, [image])[0] for image in images[:3]]
    # By hand, one image at a time (padding a batch changes the logits near the
    # padding): shrink the image as the Resize step does, take the logits there and
    # resize them bilinearly back to the image size.
    plain = build_inference_pipeline(model.cfg)
    for image, label in zip(images[:3], labels):
        small = mmcv.imrescale(image, (40, 30))
        assert max(small.shape[:2]) == 40 or min(small.shape[:2]) == 30
        inputs, samples = preprocess(model, plain, [small])
        logits = model.whole_inference(inputs, [sample.metainfo for sample in samples])
        expected = (
            F.interpolate(logits, size=image.shape[:2], mode='bilinear', align_corners=False)
            .argmax(1)[0]
            .numpy()
        )
        assert label.shape == image.shape[:2]
        np.testing.assert_array_equal(label, expected)


def test_pipeline_needs_a_file_loader():
    cfg = Config(dict(test_pipeline=[dict(type='PackSegInputs')]))
    with pytest.raises(ValueError, match="no 'LoadImageFromFile' step"):
        build_inference_pipeline(cfg)
    with pytest.raises(ValueError, match='neither test_dataloader.dataset.pipeline'):
        build_inference_pipeline(Config())


def test_find_images_from_a_file_a_folder_and_a_glob(tmp_path):
    write_images(tmp_path / 'a', [(8, 8)] * 2)
    write_images(tmp_path / 'a' / 'sub', [(8, 8)])
    (tmp_path / 'a' / 'notes.txt').write_text('not an image')
    out = tmp_path / 'a' / 'out'
    write_images(out, [(8, 8)])
    write_images(out / 'vis', [(8, 8)])  # outputs of an earlier run, nested
    paths, root = find_images(str(tmp_path / 'a'), exclude=out)
    assert root == tmp_path / 'a'
    assert [p.relative_to(root).as_posix() for p in paths] == [
        'img_000.png',
        'img_001.png',
        'sub/img_000.png',
    ]
    paths, root = find_images(str(tmp_path / 'a' / '**' / 'img_000.png'), exclude=out)
    assert root == tmp_path / 'a' and len(paths) == 2
    paths, root = find_images(str(tmp_path / 'a' / 'img_001.png'))
    assert paths == [tmp_path / 'a' / 'img_001.png'] and root == tmp_path / 'a'
    with pytest.raises(FileNotFoundError, match='is not an image, a folder with images'):
        find_images(str(tmp_path / 'a' / '*.jpg'))


def test_outputs_keep_the_path_below_the_root_as_png():
    root, out = Path('/data/in'), Path('/results')
    assert output_paths(root / 'day1' / 'a.jpg', root, out) == (
        out / 'pred' / 'day1' / 'a.png',
        out / 'vis' / 'day1' / 'a.png',
    )
    assert output_paths(root / 'b.JPEG', root, out)[0] == out / 'pred' / 'b.png'


def test_plan_batches_groups_equal_sizes_or_fills_batches(tmp_path):

    sizes = [(20, 30), (40, 30), (20, 30), (20, 30), (40, 30), (10, 10), (20, 31)]
    paths = write_images(tmp_path, sizes)
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not a png')
    batches = plan_batches(paths + [broken], batch_size=2)
    assert sorted(p for batch in batches for p in batch) == sorted(paths + [broken])
    assert [broken] in batches
    for batch in batches:
        assert len(batch) <= 2
        assert len({Image.open(p).size for p in batch if p != broken}) <= 1
    # 3 x (20, 30) -> 2 batches, 2 x (40, 30), (10, 10), (20, 31), broken
    assert len(batches) == 6
    padded = plan_batches(paths, batch_size=4, batch_mode='pad')
    assert [len(batch) for batch in padded] == [4, 3]

    with pytest.raises(ValueError, match="batch_mode='crop' is not supported"):
        plan_batches(paths, 2, 'crop')
    with pytest.raises(ValueError, match='batch_size=0 must be at least 1'):
        plan_batches(paths, 0)


def test_label_png_is_a_palette_image_of_class_indices(tmp_path):
    label = np.array([[0, 1, 2], [3, 4, 0]], dtype=np.int64)
    path = tmp_path / 'deep' / 'label.png'
    save_label_png(label, TOY_SHAPES_PALETTE, path)
    png = Image.open(path)
    assert png.mode == 'P'
    assert np.array_equal(np.array(png), label)
    assert png.getpalette()[:15] == [c for colour in TOY_SHAPES_PALETTE for c in colour]
    assert not list(path.parent.glob('.*.part'))
    with pytest.raises(ValueError, match='at most 256 classes'):
        save_label_png(np.array([[300]]), TOY_SHAPES_PALETTE, path)


def test_overlay_blends_the_label_colours():
    image = np.full((1, 2, 3), 100, dtype=np.uint8)
    label = np.array([[1, 255]])
    assert colorize(label, TOY_SHAPES_PALETTE).tolist() == [[[220, 20, 60], [255, 255, 255]]]
    assert blend(image, label, TOY_SHAPES_PALETTE, 0.5).tolist() == [
        [[160, 60, 80], [178, 178, 178]]
    ]
    # opacity is the weight of the label colour: 0.75 * 100 + 0.25 * (220, 20, 60)
    assert blend(image, label, TOY_SHAPES_PALETTE, 0.25).tolist() == [
        [[130, 80, 90], [139, 139, 139]]
    ]


def test_infer_images_writes_skips_and_reports_failures(same_model, tmp_path):
    model, sizes = same_model, SIZES[:3]
    paths = write_images(tmp_path / 'in', sizes)
    broken = tmp_path / 'in' / 'broken.png'
    broken.write_bytes(b'not a png')
    out = tmp_path / 'out'
    summary = infer_images(
        model, paths + [broken], tmp_path / 'in', out, batch_size=2, show_progress=False
    )
    assert (summary.written, summary.skipped) == (len(sizes), 0)
    assert [p for p, _ in summary.failed] == [broken]
    assert 'cannot decode' in summary.failed[0][1]
    for path, (height, width) in zip(paths, sizes):
        label_path, overlay_path = output_paths(path, tmp_path / 'in', out)
        label = Image.open(label_path)
        assert label.mode == 'P' and label.size == (width, height)
        assert np.array(label).max() < 5
        overlay = Image.open(overlay_path)
        assert overlay.mode == 'RGB' and overlay.size == (width, height)
    assert not list(out.rglob('*.part'))

    again = infer_images(model, paths, tmp_path / 'in', out, show_progress=False)
    assert (again.written, again.skipped) == (0, len(sizes))
    output_paths(paths[2], tmp_path / 'in', out)[1].unlink()
    resumed = infer_images(model, paths, tmp_path / 'in', out, show_progress=False)
    assert (resumed.written, resumed.skipped) == (1, len(sizes) - 1)
    forced = infer_images(
        model, paths, tmp_path / 'in', out, skip_existing=False, show_progress=False
    )
    assert forced.written == len(sizes)


def test_infer_images_group_and_pad_agree_on_equal_sizes(model, tmp_path):
    paths = write_images(tmp_path / 'in', [(50, 70)] * 3)
    for mode in ('group', 'pad'):
        infer_images(
            model,
            paths,
            tmp_path / 'in',
            tmp_path / mode,
            batch_size=3,
            batch_mode=mode,
            show_progress=False,
        )
    for path in paths:
        group, pad = (
            np.array(Image.open(output_paths(path, tmp_path / 'in', tmp_path / mode)[0]))
            for mode in ('group', 'pad')
        )
        assert np.array_equal(group, pad)


def test_outputs_that_would_collide_are_refused(same_model, tmp_path):
    first = write_images(tmp_path, [(8, 8)])[0]
    second = first.with_suffix('.jpg')
    second.write_bytes(first.read_bytes())
    with pytest.raises(ValueError, match='would both be written to'):
        infer_images(same_model, [first, second], tmp_path, tmp_path / 'out')


def test_progress_bar_counts_the_images(same_model, tmp_path, capsys):
    paths = write_images(tmp_path / 'in', [(20, 20)] * 3)
    infer_images(same_model, paths, tmp_path / 'in', tmp_path / 'out')
    assert '3/3' in capsys.readouterr().out
    assert Path(tmp_path / 'out' / 'pred' / 'img_002.png').is_file()
