"""MultiModalDataPreProcessor: one mean and std per channel, padding every channel."""

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_fcn_skip  # noqa: F401 (registers the plugin's modules)
from mmseg_fcn_skip.models import MultiModalDataPreProcessor

COLOUR_HHA_MEAN = [116.190, 97.203, 92.318, 132.431, 94.076, 118.477]


def _batch(*shapes, dtype=torch.uint8):
    inputs = [torch.randint(0, 256, shape).to(dtype) for shape in shapes]
    samples = []
    for shape in shapes:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.zeros(1, *shape[1:], dtype=torch.long))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_every_channel_is_normalised_with_its_own_mean_and_std():
    std = [1.0, 2.0, 4.0, 1.0, 0.5, 8.0]
    preprocessor = MODELS.build(
        dict(type='MultiModalDataPreProcessor', mean=COLOUR_HHA_MEAN, std=std)
    )
    data = _batch((6, 5, 7))
    out = preprocessor(data)['inputs']
    expected = (data['inputs'][0].float() - torch.tensor(COLOUR_HHA_MEAN).view(6, 1, 1)) / (
        torch.tensor(std).view(6, 1, 1)
    )
    assert out.shape == (1, 6, 5, 7)
    torch.testing.assert_close(out[0], expected)


def test_colour_depth_keeps_the_float_log_depth():
    preprocessor = MultiModalDataPreProcessor(mean=[116.190, 97.203, 92.318, 7.844], std=[1.0] * 4)
    image = torch.cat([torch.full((3, 2, 2), 100.0), torch.full((1, 2, 2), 8.5)])
    out = preprocessor(dict(inputs=[image], data_samples=[SegDataSample()]))['inputs']
    torch.testing.assert_close(out[0, 3], torch.full((2, 2), 8.5 - 7.844))
    torch.testing.assert_close(out[0, 0], torch.full((2, 2), 100 - 116.190))


def test_training_batches_pad_every_channel_and_the_labels():
    preprocessor = MultiModalDataPreProcessor(
        mean=COLOUR_HHA_MEAN, std=[1.0] * 6, size_divisor=8, pad_val=0, seg_pad_val=255
    )
    out = preprocessor(_batch((6, 5, 7), (6, 6, 3)), training=True)
    assert out['inputs'].shape == (2, 6, 8, 8)
    assert torch.all(out['inputs'][0, :, 5:] == 0) and torch.all(out['inputs'][1, :, :, 3:] == 0)
    label = out['data_samples'][1].gt_sem_seg.data
    assert label.shape == (1, 8, 8) and torch.all(label[:, :, 3:] == 255)


def test_another_channel_count_names_both_and_the_loading_step():
    preprocessor = MultiModalDataPreProcessor(mean=COLOUR_HHA_MEAN, std=[1.0] * 6)
    with pytest.raises(ValueError, match='6 means.*has 3 channels.*LoadMultiModalImage'):
        preprocessor(_batch((3, 4, 4)))


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(mean=[1.0] * 6, std=[1.0] * 3), 'one value per input channel'),
        (dict(mean=[], std=[]), 'one value per input channel'),
        (dict(mean=[1.0] * 6, std=[1.0] * 6, bgr_to_rgb=True), 'swap 3-channel inputs only'),
    ],
)
def test_bad_arguments_name_the_fix(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiModalDataPreProcessor(**kwargs)


def test_three_channels_behave_as_mmseg_s_preprocessor():
    settings = dict(mean=[104.0, 116.0, 122.0], std=[1.0, 2.0, 3.0], bgr_to_rgb=True)
    data = _batch((3, 4, 5))
    ours = MultiModalDataPreProcessor(**settings)(data)['inputs']
    theirs = MODELS.build(dict(type='SegDataPreProcessor', **settings))(data)['inputs']
    torch.testing.assert_close(ours, theirs)
