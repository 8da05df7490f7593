"""The released NYUDv2 colour-HHA late fusion net: recognised, converted, loaded into its
config and equal to the reference two-stream net; the streams started from the released
single-stream nets; other nets' files and other inputs refused.

Random weights with the net's Caffe layer names (two VGG16 streams with fc6/fc7 narrowed
to 16 channels, set in the config by ``cfg_options``) are converted, loaded by
``mmseg.apis.init_model`` and run by ``model.predict`` on 6-channel inputs; the fused
logits are compared at three input sizes with ``reference_nets.caffe_two_stream_fcn32s``,
written from the Caffe net definition.
"""

import re

import pytest
import torch
from mmseg.apis import init_model
from mmseg.structures import SegDataSample

from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.checkpoints import CAFFE_FCN, CheckpointError, convert, weights_layout
from mmseg_fcn_skip.checkpoints.converters.released import (
    RELEASED_NETS,
    identify_released_net,
    stream_suffixes,
)
from mmseg_fcn_skip.checkpoints.converters.two_stream import (
    STREAM_NETS,
    caffe_two_stream_to_mmseg,
    split_streams,
    two_stream_from_single_streams,
)
from mmseg_fcn_skip.datasets.nyud import NYUD_CLASSES
from mmseg_fcn_skip.utils import packaged_config
from tests.helpers.reference_nets import (
    caffe_two_stream_fcn32s,
    caffe_vgg16,
    fcn_head,
    two_stream_fcn32s,
)

NET = 'nyud-fcn32s-color-hha-heavy'
FC = 16
SIZES = [(32, 32), (40, 48), (64, 50)]
TOLERANCE = 1e-5
COLOUR_HHA_MEAN = [116.190, 97.203, 92.318, 132.431, 94.076, 118.477]


@pytest.fixture(scope='module')
def weights():
    return two_stream_fcn32s(torch.Generator().manual_seed(24), 40, fc_channels=FC)


@pytest.fixture(scope='module')
def converted(weights):
    return convert(weights, CAFFE_FCN)


def light_options(**extra):
    options = {'model.decode_head.streams.0.in_channels': [FC]}
    options['model.decode_head.streams.1.in_channels'] = [FC]
    for stream in (0, 1):
        options[f'model.backbone.streams.{stream}.fc_channels'] = FC
        options[f'model.backbone.streams.{stream}.init_cfg'] = None
        options[f'model.decode_head.streams.{stream}.init_cfg'] = None
    options.update(extra)
    return options


def config():
    return packaged_config(RELEASED_NETS[NET].config)


def six_channel_image(size, seed):
    generator = torch.Generator().manual_seed(seed)
    return 60 * torch.randn(1, 6, *size, generator=generator)


def test_the_file_is_recognised_as_the_released_two_stream_net(weights, converted):
    assert weights_layout(weights) == CAFFE_FCN
    assert stream_suffixes(weights) == ('color', 'hha')
    assert identify_released_net(weights) is RELEASED_NETS[NET]
    meta = converted.meta
    assert meta['net'] == NET and meta['variant'] == '32s' and meta['streams'] == ['color', 'hha']
    assert meta['num_classes'] == 40 and tuple(meta['dataset_meta']['classes']) == NYUD_CLASSES
    assert meta['data_preprocessor'] == dict(bgr_to_rgb=False, mean=COLOUR_HHA_MEAN, std=[1.0] * 6)
    assert meta['config'] == 'configs/' + RELEASED_NETS[NET].config


def test_each_stream_gets_its_layers_and_the_bilinear_upscore_is_dropped(weights, converted):
    state_dict = converted.checkpoint['state_dict']
    for index, suffix in enumerate(('color', 'hha')):
        assert torch.equal(
            state_dict[f'backbone.streams.{index}.blocks.4.2.conv.weight'],
            weights[f'conv5_3{suffix}.weight'],
        )
        assert torch.equal(
            state_dict[f'backbone.streams.{index}.fc7.conv.bias'], weights[f'fc7{suffix}.bias']
        )
        assert torch.equal(
            state_dict[f'decode_head.streams.{index}.conv_seg.weight'],
            weights[f'score_fr{suffix}.weight'],
        )
    assert not any('upsample' in key for key in state_dict)
    # 13 convs + fc6 + fc7 + score_fr per stream, weight and bias each.
    assert len(state_dict) == 2 * 2 * 16


def test_converted_net_predicts_the_reference_fused_logits(tmp_path, weights, converted):
    path = tmp_path / f'{NET}.pth'
    torch.save(converted.checkpoint, path)
    model = init_model(config(), str(path), device='cpu', cfg_options=light_options()).eval()
    assert set(model.state_dict()) == set(converted.checkpoint['state_dict'])
    assert tuple(model.dataset_meta['classes']) == NYUD_CLASSES
    preprocessor = model.data_preprocessor
    assert preprocessor.mean.flatten().tolist() == pytest.approx(COLOUR_HHA_MEAN)
    for size in SIZES:
        image = six_channel_image(size, size[0] * 100 + size[1])
        with torch.no_grad():
            expected = caffe_two_stream_fcn32s(weights, image)
            sample = SegDataSample(metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size))
            result = model.predict(image, [sample])[0]
        logits = result.seg_logits.data
        assert logits.shape == (40, *size) and expected.shape == (1, 40, *size)
        torch.testing.assert_close(
            logits, expected[0], rtol=0, atol=TOLERANCE * expected.abs().max()
        )
        assert torch.equal(result.pred_sem_seg.data[0], logits.argmax(0))


def test_summed_upsampled_logits_equal_the_upsampled_summed_scores(tmp_path, converted):
    """The reference upsamples score_fused once; the head upsamples each stream."""
    path = tmp_path / f'{NET}.pth'
    torch.save(converted.checkpoint, path)
    model = init_model(config(), str(path), device='cpu', cfg_options=light_options()).eval()
    head = model.decode_head
    image = six_channel_image((40, 48), 3)
    with torch.no_grad():
        levels = model.extract_feat(image)
        scores = [stream.conv_seg(levels[i]) for i, stream in enumerate(head.streams)]
        fused_score = 0.5 * scores[0] + 0.5 * scores[1]
        once = head.streams[0].final_upsample(fused_score)[..., 19:, 19:]
        per_stream = head(levels)
    torch.testing.assert_close(per_stream, once, rtol=0, atol=1e-5 * once.abs().max())
    assert head.streams[0].final_crop == 19


def test_other_fusion_weights_are_honoured(tmp_path, weights, converted):
    path = tmp_path / f'{NET}.pth'
    torch.save(converted.checkpoint, path)
    options = light_options(**{'model.decode_head.weights': (0.8, 0.2)})
    model = init_model(config(), str(path), device='cpu', cfg_options=options).eval()
    image = six_channel_image((32, 32), 5)
    with torch.no_grad():
        expected = caffe_two_stream_fcn32s(weights, image, fuse_weights=(0.8, 0.2))
        equal_weights = caffe_two_stream_fcn32s(weights, image)
        logits = model.encode_decode(image, [dict(img_shape=(32, 32), ori_shape=(32, 32))])
    torch.testing.assert_close(logits, expected, rtol=0, atol=TOLERANCE * expected.abs().max())
    assert not torch.allclose(logits, equal_weights, atol=TOLERANCE * expected.abs().max())


@pytest.mark.parametrize('channels', [3, 4])
def test_an_input_of_other_channels_is_refused_naming_the_pipeline_step(
    tmp_path, converted, channels
):
    path = tmp_path / f'{NET}.pth'
    torch.save(converted.checkpoint, path)
    model = init_model(config(), str(path), device='cpu', cfg_options=light_options()).eval()
    image = torch.zeros(1, channels, 32, 32)
    sample = SegDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32)))
    with pytest.raises(ValueError) as info:
        model.predict(image, [sample])
    message = str(info.value)
    assert f'the input has {channels} channels but MultiStreamBackbone takes 6' in message
    assert 'LoadMultiModalImage' in message


def test_a_converted_single_stream_net_is_refused_by_the_config(tmp_path):
    body = caffe_vgg16(torch.Generator().manual_seed(1), fc_channels=FC)
    single = dict(body, **fcn_head('32s', 40, torch.Generator().manual_seed(2), fc_channels=FC))
    checkpoint = convert(single, CAFFE_FCN, net='nyud-fcn32s-color-heavy').checkpoint
    path = tmp_path / 'colour.pth'
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError) as info:
        load_model(config(), str(path), cfg_options=light_options())
    message = str(info.value)
    assert 'holds the released net nyud-fcn32s-color-heavy' in message
    assert f'the config builds the released net {NET}' in message
    assert 'FCN-32s, 2 streams, 40 classes' in message


def test_the_two_stream_file_is_refused_by_a_single_stream_config(tmp_path, converted):
    path = tmp_path / f'{NET}.pth'
    torch.save(converted.checkpoint, path)
    colour = packaged_config(RELEASED_NETS['nyud-fcn32s-color-heavy'].config)
    options = {
        'model.backbone.fc_channels': FC,
        'model.decode_head.in_channels': [FC],
        'model.backbone.init_cfg': None,
    }
    with pytest.raises(CheckpointError, match=f'holds the released net {NET}'):
        load_model(colour, str(path), cfg_options=options)


def test_named_nets_are_checked_against_the_streams(weights):
    with pytest.raises(ValueError, match='nyud-fcn32s-color-heavy is an FCN-32s with 40 classes'):
        convert(weights, CAFFE_FCN, net='nyud-fcn32s-color-heavy')
    assert convert(weights, CAFFE_FCN, net=NET).meta['net'] == NET
    with pytest.raises(ValueError, match="variant='16s' was asked for"):
        convert(weights, CAFFE_FCN, variant='16s')


def test_other_class_counts_convert_without_names_in_key_order():
    weights = two_stream_fcn32s(torch.Generator(), 7, fc_channels=FC, suffixes=('rgb', 'd'))
    checkpoint, meta = convert(weights, CAFFE_FCN)
    assert 'net' not in meta and meta['config'] is None and meta['streams'] == ['rgb', 'd']
    assert torch.equal(
        checkpoint['state_dict']['decode_head.streams.1.conv_seg.bias'], weights['score_frd.bias']
    )


def test_a_stream_with_wrong_layers_is_named(weights):
    broken = {k: v for k, v in weights.items() if k != 'fc6hha.bias'}
    with pytest.raises(KeyError, match=r"stream 'hha'.*missing \['fc6.bias'\]"):
        caffe_two_stream_to_mmseg(broken, ('color', 'hha'))
    uneven = dict(weights, **{'score_frhha.weight': torch.zeros(5, FC, 1, 1)})
    uneven['score_frhha.bias'] = torch.zeros(5)
    with pytest.raises(ValueError, match='score_frhha.weight|upscore.weight'):
        convert(uneven, CAFFE_FCN)


def test_split_streams_shares_the_layers_of_no_stream(weights):
    colour, hha = split_streams(weights, ('color', 'hha'))
    assert 'conv1_1.weight' in colour and 'score_frhha.weight' not in colour
    assert colour['upscore.weight'] is hha['upscore.weight'] is weights['upscore.weight']
    assert torch.equal(hha['conv1_1.weight'], weights['conv1_1hha.weight'])


def test_sift_flow_heads_on_one_body_are_not_streams():
    keys = ['conv1_1.weight', 'score_fr_sem.weight', 'score_fr_geo.weight']
    assert stream_suffixes(keys) == ()
    assert stream_suffixes(['conv1_1_bgrd.weight', 'score_fr.weight']) == ()


# ----------------------------------------------------------------------------------------
# Streams started from the released single-stream nets, as the authors trained the net.


def single_stream_checkpoint(name, seed):
    body = caffe_vgg16(torch.Generator().manual_seed(seed), fc_channels=FC)
    head = fcn_head('32s', 40, torch.Generator().manual_seed(seed + 1), fc_channels=FC)
    return convert(dict(body, **head), CAFFE_FCN, net=name).checkpoint


@pytest.fixture(scope='module')
def single_streams():
    return [single_stream_checkpoint(name, 10 * i) for i, name in enumerate(STREAM_NETS[NET])]


def _assert_streams_equal(state_dict, single_streams):
    for index, checkpoint in enumerate(single_streams):
        for key, value in checkpoint['state_dict'].items():
            part, rest = key.split('.', 1)
            assert torch.equal(state_dict[f'{part}.streams.{index}.{rest}'], value), key


def test_streams_start_from_the_single_stream_nets_by_init_cfg(tmp_path, single_streams):
    paths = []
    for name, checkpoint in zip(STREAM_NETS[NET], single_streams):
        paths.append(tmp_path / f'{name}.pth')
        torch.save(checkpoint, paths[-1])
    options = light_options()
    for stream, path in enumerate(paths):
        for part in ('backbone', 'decode_head'):
            options[f'model.{part}.streams.{stream}.init_cfg'] = dict(
                type='Pretrained', checkpoint=str(path), prefix=f'{part}.'
            )
    model = init_model(config(), None, device='cpu', cfg_options=options)
    model.init_weights()
    _assert_streams_equal(model.state_dict(), single_streams)


def test_the_config_starts_each_stream_from_its_released_net():
    from mmengine.config import Config

    cfg = Config.fromfile(config())
    for stream, name in enumerate(STREAM_NETS[NET]):
        for part, prefix in (('backbone', 'backbone.'), ('decode_head', 'decode_head.')):
            init = cfg.model[part].streams[stream].init_cfg
            assert init == dict(type='Pretrained', checkpoint=name, prefix=prefix)
    # The reference solver: 1e-12 on the summed loss, x ~250k pixels on the averaged one.
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-12 * 250_000)


def test_two_stream_from_single_streams_loads_into_the_config(tmp_path, single_streams):
    state_dict, meta = two_stream_from_single_streams(single_streams)
    assert 'net' not in meta and meta['streams'] == ['color', 'hha']
    assert meta['source'] == f'{NET} started from ' + ', '.join(STREAM_NETS[NET])
    assert meta['data_preprocessor']['mean'] == COLOUR_HHA_MEAN
    path = tmp_path / 'start.pth'
    torch.save(dict(state_dict=state_dict, meta=meta), path)
    model = load_model(config(), str(path), cfg_options=light_options())
    _assert_streams_equal(model.state_dict(), single_streams)


def test_two_stream_from_single_streams_checks_the_order_and_count(single_streams):
    with pytest.raises(
        ValueError,
        match=re.escape(
            'checkpoint 0 holds nyud-fcn32s-hha-heavy, but stream 0 (color) of '
            f'{NET} starts from nyud-fcn32s-color-heavy'
        ),
    ):
        two_stream_from_single_streams(single_streams[::-1])
    with pytest.raises(ValueError, match='has 2 streams .* but 1 checkpoints were given'):
        two_stream_from_single_streams(single_streams[:1])
    with pytest.raises(ValueError, match="net='fcn32s-heavy-pascal' is no multi-stream"):
        two_stream_from_single_streams(single_streams, net='fcn32s-heavy-pascal')
