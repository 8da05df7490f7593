"""checkpoints.compatibility: exact matches for testing, what load_from accepts, refusals."""

import re

import pytest
import torch
from mmseg.models import SegTTAModel

from mmseg_fcn_skip.checkpoints import (
    NEW_CLASSES,
    STAGED,
    CheckpointError,
    check_compatible,
    check_exact_match,
    check_load_from,
    verify_checkpoint,
)
from mmseg_fcn_skip.checkpoints.compatibility import DROPPED, WIDENED
from tests.helpers.light_models import light_model, save_checkpoint

_model = light_model
_save = save_checkpoint


@pytest.fixture(scope='module')
def fcn8s():
    return light_model()


def _mismatch(model, state_dict):
    with pytest.raises(CheckpointError, match='checkpoint x.pth does not fit') as error:
        check_exact_match(model, state_dict, 'x.pth')
    return str(error.value)


# exact matches


@pytest.mark.parametrize(
    'wrap', [lambda m: m, lambda m: SegTTAModel(module=m)], ids=['bare', 'tta']
)
def test_wrapped_models_are_checked_as_the_segmentor_inside(fcn8s, wrap):
    """Exact weights pass; one tensor of another shape or one key less is named."""
    model, state_dict = wrap(fcn8s), fcn8s.state_dict()
    assert check_exact_match(model, state_dict, 'x.pth').kinds == ()
    wrong = dict(state_dict, **{'backbone.fc6.conv.bias': torch.zeros(3)})
    with pytest.raises(
        CheckpointError,
        match=re.escape(
            'Shapes that differ (checkpoint vs model): backbone.fc6.conv.bias (3,) vs (16,)'
        ),
    ):
        check_exact_match(model, wrong, 'x.pth')
    partial = {k: v for k, v in state_dict.items() if k != 'decode_head.conv_seg.bias'}
    with pytest.raises(
        CheckpointError, match=re.escape('Keys the checkpoint lacks: decode_head.conv_seg.bias')
    ):
        check_exact_match(model, partial, 'x.pth')
    extra = dict(state_dict, **{'decode_head.extra': torch.zeros(1)})
    with pytest.raises(CheckpointError, match=re.escape('Keys the model lacks: decode_head.extra')):
        check_exact_match(model, extra, 'x.pth')


def test_the_variant_is_named_by_the_strides_of_its_skip_levels(fcn8s):
    """Skip levels of strides 4 and 16 make an FCN-4s, though as many as an FCN-8s has."""
    other = _model(
        '8s', backbone=dict(out_indices=(1, 3, 5)), in_channels=(8, 32, 16), in_strides=(4, 16, 32)
    )
    message = _mismatch(fcn8s, other.state_dict())
    assert 'The checkpoint is an FCN-4s (2 skip levels) but the config builds an FCN-8s (2)' in (
        message
    )
    assert 'Keys the model lacks: decode_head.skip_scores.stride4.bias' in message


def test_other_variant_is_named_with_keys_and_shapes(fcn8s):
    message = _mismatch(fcn8s, _model('16s').state_dict())
    assert 'checkpoint x.pth does not fit the model' in message
    assert 'is an FCN-16s (1 skip levels) but the config builds an FCN-8s (2)' in message
    assert (
        'Keys the checkpoint lacks: decode_head.skip_scores.stride8.bias, '
        'decode_head.skip_scores.stride8.weight' in message
    )
    assert 'Shapes that differ' not in message  # pool4's layer has the same name


def test_long_key_lists_show_six_and_count_the_rest(fcn8s):
    state_dict = fcn8s.state_dict()
    lacking = sorted(k for k in state_dict if k.startswith('backbone.blocks.'))[:10]
    message = _mismatch(fcn8s, {k: v for k, v in state_dict.items() if k not in lacking})
    assert f'Keys the checkpoint lacks: {", ".join(lacking[:6])} and 4 more' in message
    message = _mismatch(fcn8s, {k: v for k, v in state_dict.items() if k not in lacking[:6]})
    assert message.endswith(f'Keys the checkpoint lacks: {", ".join(lacking[:6])}')


def test_other_class_count_is_named(fcn8s):

    message = _mismatch(fcn8s, _model(num_classes=21).state_dict())
    assert 'predicts 21 classes but the config has num_classes=5' in message
    assert (
        'to fine-tune on 5 classes, train from it with tools/train.py '
        "--cfg-options load_from='x.pth'" in message
    )
    assert 'decode_head.conv_seg.weight (21, 16, 1, 1) vs (5, 16, 1, 1)' in message


@pytest.mark.parametrize(
    'keys, converter',
    [
        (
            ['features.0.weight', 'features.0.bias', 'classifier.0.weight'],
            'tools/model_converters/torchvision_vgg2mmseg.py',
        ),
        (
            ['conv1_1.weight', 'fc6.weight', 'score_fr.weight', 'upscore2.weight'],
            'tools/model_converters/caffe_fcn2mmseg.py',
        ),
        (
            ['conv1_1.weight', 'conv1_1.bias', 'fc7.weight'],
            'tools/model_converters/caffe_vgg2mmseg.py',
        ),
    ],
)
def test_foreign_weights_point_to_their_converter(fcn8s, keys, converter):
    message = _mismatch(fcn8s, {key: torch.zeros(1) for key in keys})
    assert converter in message
    assert f'Keys the model lacks: {sorted(keys)[0]}' in message


def test_bare_backbone_weights_point_to_init_cfg(fcn8s):
    backbone = fcn8s.backbone.state_dict()
    message = _mismatch(fcn8s, backbone)
    assert 'holds backbone weights only' in message
    assert "init_cfg=dict(type='Pretrained', checkpoint='x.pth')" in message


def test_verify_checkpoint_checks_file_and_match(tmp_path, fcn8s):
    verify_checkpoint(fcn8s, _save(tmp_path / 'ok.pth', fcn8s))
    with pytest.raises(CheckpointError, match='FCN-32s'):
        verify_checkpoint(fcn8s, _save(tmp_path / 'fcn32s.pth', _model('32s')))


# what load_from accepts


def _refused(model, state_dict, **kwargs):
    with pytest.raises(CheckpointError, match='checkpoint x.pth does not fit') as error:
        check_compatible(model, state_dict, 'x.pth', **kwargs)
    return str(error.value)


@pytest.mark.parametrize(
    'coarse, fine, new',
    [
        ('32s', '16s', {'decode_head.skip_scores.stride16': 'pool4 (stride 16)'}),
        ('16s', '8s', {'decode_head.skip_scores.stride8': 'pool3 (stride 8)'}),
        (
            '32s',
            '8s',
            {
                'decode_head.skip_scores.stride8': 'pool3 (stride 8)',
                'decode_head.skip_scores.stride16': 'pool4 (stride 16)',
            },
        ),
        ('8s', '4s', {'decode_head.skip_scores.stride4': 'pool2 (stride 4)'}),
    ],
)
def test_a_coarser_variant_is_staged(coarse, fine, new):
    checkpoint = _model(coarse).state_dict()
    result = check_compatible(_model(fine), checkpoint, 'x.pth')
    assert result.kinds == (STAGED,)
    assert result.loaded == sorted(checkpoint)
    zero = ", starts at zero: the net starts from the loaded net's predictions"
    assert result.initialised == {
        layer: f'new skip level {pool}{zero}' for layer, pool in new.items()
    }
    assert result.dropped == {}
    summary = result.summary('x.pth')
    assert summary.startswith(f'load_from x.pth: FCN-{coarse} into FCN-{fine} (staged)')
    assert '\n  loaded from it: backbone (' in summary


def test_learned_upsamplings_of_new_levels_start_afresh():
    result = check_compatible(
        _model('8s', learn_upsample=True), _model('16s', learn_upsample=True).state_dict(), 'x.pth'
    )
    assert result.initialised == {
        'decode_head.fuse_upsamples.stride16': 'new fusion from stride 16',
        'decode_head.final_upsample': 'upsamples x8 in the FCN-8s, x16 in the FCN-16s: '
        'starts bilinear',
        'decode_head.skip_scores.stride8': 'new skip level pool3 (stride 8), starts at zero: '
        "the net starts from the loaded net's predictions",
    }
    assert 'decode_head.fuse_upsamples.stride32.weight' in result.loaded


@pytest.mark.parametrize('num_classes', [7, 3])
def test_another_class_count_reinitialises_the_score_layers(num_classes):
    result = check_compatible(_model(num_classes=num_classes), _model().state_dict(), 'x.pth')
    assert result.kinds == (NEW_CLASSES,)
    layers = [
        'decode_head.conv_seg',
        'decode_head.skip_scores.stride16',
        'decode_head.skip_scores.stride8',
    ]
    assert result.initialised == {layer: f'5 -> {num_classes} classes' for layer in layers}
    assert all(key.startswith('backbone.') for key in result.loaded)
    assert len(result.loaded) == len(_model().backbone.state_dict())
    assert f'load_from x.pth: 5 -> {num_classes} classes' in result.summary('x.pth')


def test_staged_with_another_class_count():
    result = check_compatible(_model('8s', num_classes=3), _model('32s').state_dict(), 'x.pth')
    assert result.kinds == (STAGED, NEW_CLASSES)
    assert result.description == 'FCN-32s into FCN-8s (staged); 5 -> 3 classes'
    assert result.initialised['decode_head.conv_seg'] == '5 -> 3 classes'
    assert (
        result.initialised['decode_head.skip_scores.stride8'] == 'new skip level pool3 (stride 8)'
    )


def test_an_exact_checkpoint_fits(fcn8s):
    result = check_compatible(fcn8s, fcn8s.state_dict(), 'x.pth')
    assert (result.kinds, result.initialised) == ((), {})
    assert result.summary('x.pth') == (
        'load_from x.pth fits the model exactly: all '
        f'{len(fcn8s.state_dict())} tensors are loaded from it'
    )


def test_a_finer_variant_is_refused_unless_its_layers_may_be_dropped():
    checkpoint = _model('8s').state_dict()
    message = _refused(_model('16s'), checkpoint)
    assert (
        'The checkpoint is an FCN-8s but the config builds an FCN-16s: loading it '
        'would drop its trained layers decode_head.skip_scores.stride8 (skip level '
        'pool3 (stride 8) the config does not build). Use a config that builds an '
        'FCN-8s, or set load_from_drop_layers = True in the config (--cfg-options '
        'load_from_drop_layers=True) to drop them on purpose.'
    ) in message
    assert 'Keys the model lacks: decode_head.skip_scores.stride8.bias' in message
    result = check_compatible(_model('16s'), checkpoint, 'x.pth', drop_layers=True)
    assert result.kinds == (DROPPED,)
    assert result.dropped == {
        'decode_head.skip_scores.stride8': 'skip level pool3 (stride 8) the config does not build'
    }
    assert (
        'dropped from the checkpoint (load_from_drop_layers=True): '
        'decode_head.skip_scores.stride8' in result.summary('x.pth')
    )


@pytest.mark.parametrize('num_classes', [5, 3])
@pytest.mark.parametrize(
    'backbone', [dict(depth=11), dict(base_channels=8)], ids=['depth', 'width']
)
def test_another_backbone_is_refused(fcn8s, backbone, num_classes):
    """Also with another class count: only the score layers may differ."""
    channels = (32, 64, 16) if 'base_channels' in backbone else (16, 32, 16)
    other = light_model(backbone=backbone, in_channels=channels, num_classes=num_classes)
    message = _refused(fcn8s, other.state_dict())
    assert "Its backbone is not the config's (another depth or width)" in message


@pytest.mark.parametrize(
    'keys, converter',
    [
        (
            ['features.0.weight', 'features.0.bias', 'classifier.0.weight'],
            'tools/model_converters/torchvision_vgg2mmseg.py',
        ),
        (
            ['conv1_1.weight', 'fc6.weight', 'score_fr.weight', 'upscore2.weight'],
            'tools/model_converters/caffe_fcn2mmseg.py',
        ),
    ],
)
def test_files_needing_a_converter_are_refused_as_load_from(fcn8s, keys, converter):
    message = _refused(fcn8s, {key: torch.zeros(1) for key in keys})
    assert f'convert it with {converter}' in message


def test_bare_backbone_weights_are_refused_as_load_from(fcn8s):
    message = _refused(fcn8s, fcn8s.backbone.state_dict())
    assert 'holds backbone weights only' in message


def test_check_load_from_logs_the_summary(tmp_path, fcn8s):
    path = _save(tmp_path / 'fcn16s.pth', _model('16s'))
    with pytest.raises(CheckpointError, match='FCN-16s'):
        check_load_from(fcn8s, path, exact=True)
    result = check_load_from(fcn8s, path)
    assert result.kinds == (STAGED,)


def test_a_colour_checkpoint_loads_into_a_colour_depth_backbone():
    """load_from of a 3-channel net into one for 4 channels: conv1_1 is widened (and
    counts as loaded), everything else loads; testing needs the exact net."""
    colour = _model()
    colour_depth = _model(backbone=dict(in_channels=4))
    result = check_compatible(colour_depth, colour.state_dict(), 'x.pth')
    assert result.kinds == (WIDENED,)
    assert result.description == (
        'backbone.blocks.0.0.conv widened from 3 to 4 input channels (the extra ones '
        'start as the mean of the colour filters)'
    )
    assert result.loaded == sorted(colour_depth.state_dict())
    assert result.initialised == {}
    message = _mismatch(colour_depth, colour.state_dict())
    assert 'backbone.blocks.0.0.conv.weight (4, 3, 3, 3) vs (4, 4, 3, 3)' in message


def test_a_first_convolution_of_another_width_is_refused():
    message = _refused(
        _model(backbone=dict(in_channels=4)), _model(backbone=dict(in_channels=6)).state_dict()
    )
    assert 'backbone.blocks.0.0.conv.weight (4, 6, 3, 3) vs (4, 4, 3, 3)' in message
