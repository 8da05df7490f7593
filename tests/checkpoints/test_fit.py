"""checkpoints.fit: exact fits for testing, the fits load_from accepts, refusals."""
import re

import pytest
import torch

from checkpoint_models import light_model, save_checkpoint
from mmseg.models import SegTTAModel
from mmseg_fcn_skip.checkpoints import CheckpointError, check_exact_fit, verify_checkpoint

_model = light_model
_save = save_checkpoint


@pytest.fixture(scope='module')
def fcn8s():
    return light_model()


def _mismatch(model, state_dict):
    with pytest.raises(CheckpointError, match='checkpoint x.pth does not fit') as error:
        check_exact_fit(model, state_dict, 'x.pth')
    return str(error.value)


# exact fits

@pytest.mark.parametrize('wrap', [lambda m: m, lambda m: SegTTAModel(module=m)],
                         ids=['bare', 'tta'])
def test_wrapped_models_are_checked_as_the_segmentor_inside(fcn8s, wrap):
    """Exact weights pass; one tensor of another shape or one key less is named."""
    model, state_dict = wrap(fcn8s), fcn8s.state_dict()
    assert check_exact_fit(model, state_dict, 'x.pth').kinds == ()
    wrong = dict(state_dict, **{'backbone.fc6.conv.bias': torch.zeros(3)})
    with pytest.raises(CheckpointError, match=re.escape(
            'Shapes that differ (checkpoint vs model): backbone.fc6.conv.bias (3,) vs '
            '(16,)')):
        check_exact_fit(model, wrong, 'x.pth')
    partial = {k: v for k, v in state_dict.items() if k != 'decode_head.conv_seg.bias'}
    with pytest.raises(CheckpointError, match=re.escape(
            'Keys the checkpoint lacks: decode_head.conv_seg.bias')):
        check_exact_fit(model, partial, 'x.pth')
    extra = dict(state_dict, **{'decode_head.extra': torch.zeros(1)})
    with pytest.raises(CheckpointError, match=re.escape(
            'Keys the model lacks: decode_head.extra')):
        check_exact_fit(model, extra, 'x.pth')


def test_other_variant_is_named_with_keys_and_shapes(fcn8s):
    message = _mismatch(fcn8s, _model('16s').state_dict())
    assert 'checkpoint x.pth does not fit the model' in message
    assert 'is an FCN-16s (1 skip levels) but the config builds an FCN-8s (2)' in message
    assert 'Keys the checkpoint lacks: decode_head.skip_scores.stride8.bias, ' \
        'decode_head.skip_scores.stride8.weight' in message
    assert 'Shapes that differ' not in message  # pool4's layer has the same name


def test_long_key_lists_show_six_and_count_the_rest(fcn8s):
    state_dict = fcn8s.state_dict()
    lacking = sorted(k for k in state_dict if k.startswith('backbone.blocks.'))[:10]
    message = _mismatch(fcn8s, {k: v for k, v in state_dict.items() if k not in lacking})
    assert f'Keys the checkpoint lacks: {", ".join(lacking[:6])} and 4 more' in message
    message = _mismatch(fcn8s, {k: v for k, v in state_dict.items()
                                if k not in lacking[:6]})
    assert message.endswith(f'Keys the checkpoint lacks: {", ".join(lacking[:6])}')


def test_other_class_count_is_named(fcn8s):

    message = _mismatch(fcn8s, _model(num_classes=21).state_dict())
    assert 'predicts 21 classes but the config has num_classes=5' in message
    assert "to fine-tune on 5 classes, train from it with tools/train.py " \
        "--cfg-options load_from='x.pth'" in message
    assert 'decode_head.conv_seg.weight (21, 16, 1, 1) vs (5, 16, 1, 1)' in message


@pytest.mark.parametrize('keys, converter', [
    (['features.0.weight', 'features.0.bias', 'classifier.0.weight'],
     'tools/model_converters/torchvision_vgg2mmseg.py'),
    (['conv1_1.weight', 'fc6.weight', 'score_fr.weight', 'upscore2.weight'],
     'tools/model_converters/caffe_fcn2mmseg.py'),
    (['conv1_1.weight', 'conv1_1.bias', 'fc7.weight'],
     'tools/model_converters/caffe_vgg2mmseg.py'),
])
def test_foreign_weights_point_to_their_converter(fcn8s, keys, converter):
    message = _mismatch(fcn8s, {key: torch.zeros(1) for key in keys})
    assert converter in message
    assert f'Keys the model lacks: {sorted(keys)[0]}' in message


def test_bare_backbone_weights_point_to_init_cfg(fcn8s):
    backbone = fcn8s.backbone.state_dict()
    message = _mismatch(fcn8s, backbone)
    assert 'holds backbone weights only' in message
    assert "init_cfg=dict(type='Pretrained', checkpoint='x.pth')" in message


def test_verify_checkpoint_checks_file_and_fit(tmp_path, fcn8s):
    verify_checkpoint(fcn8s, _save(tmp_path / 'ok.pth', fcn8s))
    with pytest.raises(CheckpointError, match='FCN-32s'):
        verify_checkpoint(fcn8s, _save(tmp_path / 'fcn32s.pth', _model('32s')))


