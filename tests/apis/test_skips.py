import copy

import numpy as np
import pytest
import torch
from PIL import Image

from mmseg_fcn_skip.apis import build_inference_pipeline, load_model, predict_labels
from mmseg_fcn_skip.apis.skips import (
    draw_skip_figure,
    pixel_accuracy,
    predict_each_model,
    predict_skip_variants,
    read_label_map,
    variant_name,
)
from mmseg_fcn_skip.datasets import TOY_SHAPES_CLASSES, TOY_SHAPES_PALETTE
from tests.helpers.images import blob_image
from tests.helpers.light_models import light_checkpoint
from tests.helpers.saved_figures import image_panels, legend_labels, record_saved_figures


@pytest.fixture(scope='module', params=['same', 'caffe'])
def fcn8s(request, tmp_path_factory):
    return load_model(
        *light_checkpoint(tmp_path_factory.mktemp(request.param), pad_mode=request.param)
    )


@pytest.fixture(scope='module')
def image():
    return blob_image(77, 101, np.random.default_rng(3))


@pytest.mark.parametrize('height,width', [(37, 53), (64, 64), (101, 67)])
def test_leaving_out_a_skip_equals_zeroing_its_score_layer(fcn8s, height, width):
    head = fcn8s.decode_head
    features = fcn8s.extract_feat(torch.rand(1, 3, height, width) * 255)
    with torch.no_grad():
        full = head.forward(features)
        assert torch.equal(head.forward(features, num_levels=3), full)
        coarse = {k: head.forward(features, num_levels=k) for k in (1, 2)}
        saved = [p.clone() for p in head.skip_scores.parameters()]
        try:
            for parameter in head.skip_scores.stride8.parameters():  # pool3 left out: 16s
                parameter.zero_()
            fcn16s = head.forward(features)
            for parameter in head.skip_scores.parameters():  # pool4 too: 32s
                parameter.zero_()
            fcn32s = head.forward(features)
        finally:
            for parameter, value in zip(head.skip_scores.parameters(), saved):
                parameter.copy_(value)
    # With same padding the full head also cuts each sum to the skip's extent, which
    # leaves out upsampled scores near the bottom/right edge: equal up to a band of
    # less than the stride of pool4. With caffe padding the extents never shrink.
    band = 16 if head.pad_mode == 'same' else 0
    for logits, expected in ((coarse[2], fcn16s), (coarse[1], fcn32s)):
        assert logits.shape[-2] >= height and logits.shape[-1] >= width
        assert torch.allclose(
            logits[..., : height - band, : width - band],
            expected[..., : height - band, : width - band],
            atol=1e-4,
        )
    assert not torch.allclose(coarse[1][..., :height, :width], full[..., :height, :width])


def test_num_levels_out_of_range_is_refused(fcn8s):
    features = fcn8s.extract_feat(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r'num_levels=4 must be in 1\.\.3'):
        fcn8s.decode_head.forward(features, num_levels=4)
    with pytest.raises(ValueError, match=r'num_levels=0 must be in 1\.\.3'):
        fcn8s.decode_head.forward(features, num_levels=0)


def _zeroed_skip_predictions(model, image):
    """Label maps of copies of ``model`` with the finest 0, 1, ... skip score layers
    zeroed (their levels then add nothing), finest model first."""
    model = copy.deepcopy(model)
    pipeline = build_inference_pipeline(model.cfg)
    labels = [predict_labels(model, pipeline, [image])[0]]
    with torch.no_grad():
        for score in model.decode_head.skip_scores.values():  # pool3, then pool4 too
            for parameter in score.parameters():
                parameter.zero_()
            labels.append(predict_labels(model, pipeline, [image])[0])
    return labels


def test_skip_removal_views_are_the_net_with_those_skips_zeroed(fcn8s, image):
    labels = predict_skip_variants(fcn8s, image)
    names = ['FCN-8s without the stride-16, 8 skips', 'FCN-8s without the stride-8 skip', 'FCN-8s']
    assert list(labels) == names
    expected = dict(zip(reversed(names), _zeroed_skip_predictions(fcn8s, image)))
    height, width = image.shape[:2]
    # Same padding: equal but for a band at the bottom and right (see above).
    band = 16 if fcn8s.decode_head.pad_mode == 'same' else 0
    assert np.array_equal(labels['FCN-8s'], expected['FCN-8s'])
    for name in names:
        assert labels[name].shape == (height, width)
        assert np.array_equal(
            labels[name][: height - band, : width - band],
            expected[name][: height - band, : width - band],
        ), name
    assert not np.array_equal(labels[names[0]], labels['FCN-8s'])


def test_one_prediction_per_model_for_separate_checkpoints(tmp_path, image):
    models = [load_model(*light_checkpoint(tmp_path, v)) for v in ('32s', '16s', '8s')]
    assert [variant_name(m) for m in models] == ['FCN-32s', 'FCN-16s', 'FCN-8s']
    labels = predict_each_model(models, image)
    assert list(labels) == ['FCN-32s', 'FCN-16s', 'FCN-8s']
    for model, label in zip(models, labels.values()):
        pipeline = build_inference_pipeline(model.cfg)
        assert np.array_equal(label, predict_labels(model, pipeline, [image])[0])
    assert not np.array_equal(labels['FCN-32s'], labels['FCN-8s'])
    with pytest.raises(ValueError, match='two models are both FCN-16s'):
        predict_each_model([models[1], models[1]], image)


def test_variant_name_needs_the_plugin_head(fcn8s, tmp_path):
    assert variant_name(fcn8s, 2) == 'FCN-16s'
    plain = load_model(*light_checkpoint(tmp_path))
    plain.decode_head = torch.nn.Identity()
    with pytest.raises(ValueError, match='decode head is Identity, not FCNSkipHead'):
        variant_name(plain)


def test_pixel_accuracy_ignores_unlabelled_pixels():
    truth = np.array([[0, 1, 255], [2, 2, 255]])
    label = np.array([[0, 2, 0], [2, 1, 1]])
    assert pixel_accuracy(label, truth) == 0.5
    assert pixel_accuracy(label, np.full_like(truth, 255)) == 0.0
    with pytest.raises(ValueError, match='pass the label map of this image'):
        pixel_accuracy(label, truth[:1])


def test_label_maps_must_hold_class_indices(tmp_path):
    label = np.array([[0, 1], [4, 255]], dtype=np.uint8)
    Image.fromarray(label).save(tmp_path / 'grey.png')
    assert np.array_equal(read_label_map(tmp_path / 'grey.png'), label)
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / 'colour.png')
    with pytest.raises(ValueError, match='has 3 channels; pass a label map of class'):
        read_label_map(tmp_path / 'colour.png')


def test_figure_panels_show_the_image_truth_and_predictions(tmp_path, image, monkeypatch):
    figures = record_saved_figures(monkeypatch)
    rng = np.random.default_rng(0)
    labels = {'FCN-32s': np.zeros((77, 101), int), 'FCN-8s': rng.integers(0, 3, (77, 101))}
    truth = rng.integers(0, 3, (77, 101)).astype(np.uint8)
    truth[0] = 255
    rgb = np.ascontiguousarray(image[..., ::-1])
    without = draw_skip_figure(
        rgb, labels, TOY_SHAPES_CLASSES, TOY_SHAPES_PALETTE, tmp_path / 'a.png'
    )
    with_truth = draw_skip_figure(
        rgb,
        labels,
        TOY_SHAPES_CLASSES,
        TOY_SHAPES_PALETTE,
        tmp_path / 'b' / 'b.png',
        truth,
        title='Two nets',
    )
    assert without.is_file() and with_truth == tmp_path / 'b' / 'b.png'
    palette = np.array(TOY_SHAPES_PALETTE, np.uint8)
    white = np.array([255, 255, 255], np.uint8)  # unlabelled pixels
    truth_colours = np.where((truth == 255)[..., None], white, palette[truth % 5])
    panels = [image_panels(figure) for figure in figures]
    assert [title for title, _ in panels[0]] == ['image', 'FCN-32s', 'FCN-8s']
    assert [title.split('\n')[0] for title, _ in panels[1]] == [
        'image',
        'ground truth',
        'FCN-32s',
        'FCN-8s',
    ]
    for (_, shown), expected in zip(
        panels[1], [rgb, truth_colours, palette[labels['FCN-32s']], palette[labels['FCN-8s']]]
    ):
        assert np.array_equal(shown, expected)
    valid = truth != 255
    for (title, _), label in zip(panels[1][2:], labels.values()):
        accuracy = 100 * (label[valid] == truth[valid]).mean()
        assert f'{accuracy:.1f}% pixel acc.' in title
    assert legend_labels(figures[1]) == ['background', 'disc', 'box']
    assert figures[1].get_suptitle() == 'Two nets'
    # the row's title above the panels' titles above the legend, in size
    assert figures[1]._suptitle.get_fontsize() == 10
    assert {axis.title.get_fontsize() for axis in figures[1].axes} == {9}
    assert {text.get_fontsize() for text in figures[1].legends[0].get_texts()} == {8}
