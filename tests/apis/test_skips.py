import numpy as np
import pytest
import torch
from PIL import Image

from light_fcn import blob_image, light_model
from mmseg_fcn_skip.apis import build_inference_pipeline, load_model, predict_labels
from mmseg_fcn_skip.apis.skips import (draw_skip_figure, pixel_accuracy,
                                       predict_each_model, predict_skip_variants,
                                       read_label_map, variant_name)
from mmseg_fcn_skip.datasets import TOY_SHAPES_CLASSES, TOY_SHAPES_PALETTE


@pytest.fixture(scope='module', params=['same', 'caffe'])
def fcn8s(request, tmp_path_factory):
    return load_model(*light_model(tmp_path_factory.mktemp(request.param),
                                   pad_mode=request.param))


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
            for parameter in head.skip_scores[0].parameters():  # pool3 left out: 16s
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
        assert torch.allclose(logits[..., :height - band, :width - band],
                              expected[..., :height - band, :width - band], atol=1e-4)
    assert not torch.allclose(coarse[1][..., :height, :width], full[..., :height, :width])


def test_num_levels_out_of_range_is_refused(fcn8s):
    features = fcn8s.extract_feat(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r'num_levels=4 must be in 1\.\.3'):
        fcn8s.decode_head.forward(features, num_levels=4)
    with pytest.raises(ValueError, match=r'num_levels=0 must be in 1\.\.3'):
        fcn8s.decode_head.forward(features, num_levels=0)


def test_skip_variants_are_named_by_stride_and_the_finest_is_the_model(fcn8s, image):
    labels = predict_skip_variants(fcn8s, image)
    assert list(labels) == ['FCN-32s', 'FCN-16s', 'FCN-8s']
    assert all(label.shape == image.shape[:2] for label in labels.values())
    full = predict_labels(fcn8s, build_inference_pipeline(fcn8s.cfg), [image])[0]
    assert np.array_equal(labels['FCN-8s'], full)
    assert not np.array_equal(labels['FCN-32s'], labels['FCN-8s'])


def test_one_prediction_per_model_for_separate_checkpoints(tmp_path, image):
    models = [load_model(*light_model(tmp_path, num_levels=k)) for k in (1, 2, 3)]
    assert [variant_name(m) for m in models] == ['FCN-32s', 'FCN-16s', 'FCN-8s']
    labels = predict_each_model(models, image)
    assert list(labels) == ['FCN-32s', 'FCN-16s', 'FCN-8s']
    pipeline = build_inference_pipeline(models[0].cfg)
    assert np.array_equal(labels['FCN-32s'], predict_labels(models[0], pipeline,
                                                            [image])[0])
    with pytest.raises(ValueError, match='two models are both FCN-16s'):
        predict_each_model([models[1], models[1]], image)


def test_variant_name_needs_the_plugin_head(fcn8s, tmp_path):
    assert variant_name(fcn8s, 2) == 'FCN-16s'
    plain = load_model(*light_model(tmp_path))
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


def test_figure_has_a_panel_per_prediction(tmp_path, image):
    labels = {'FCN-32s': np.zeros((77, 101), int), 'FCN-8s': np.ones((77, 101), int)}
    truth = np.ones((77, 101), np.uint8)
    truth[0] = 255
    without = draw_skip_figure(image[..., ::-1], labels, TOY_SHAPES_CLASSES,
                               TOY_SHAPES_PALETTE, tmp_path / 'a.png')
    with_truth = draw_skip_figure(image[..., ::-1], labels, TOY_SHAPES_CLASSES,
                                  TOY_SHAPES_PALETTE, tmp_path / 'b' / 'b.png', truth)
    narrow, wide = Image.open(without).size, Image.open(with_truth).size
    assert wide[0] / narrow[0] == pytest.approx(4 / 3, rel=0.02)  # 3 -> 4 panels
    assert narrow[1] == wide[1]
