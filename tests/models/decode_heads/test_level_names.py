"""The head's layers are named by level; positional names of older checkpoints load."""

import logging

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import load_checkpoint

from mmseg_fcn_skip.models.decode_heads.level_names import positional_renames
from tests.helpers.light_models import light_model


def _positional(state_dict):
    """The state dict as checkpoints before the level names had it."""
    skips = sorted(
        {
            int(k.split('.')[2][len('stride') :])
            for k in state_dict
            if k.startswith('decode_head.skip_scores.')
        }
    )
    fuses = sorted(
        {
            int(k.split('.')[2][len('stride') :])
            for k in state_dict
            if k.startswith('decode_head.fuse_upsamples.')
        },
        reverse=True,
    )
    old = {}
    for key, value in state_dict.items():
        parts = key.split('.')
        if key.startswith('decode_head.skip_scores.'):
            parts[2] = str(skips.index(int(parts[2][len('stride') :])))
        elif key.startswith('decode_head.fuse_upsamples.'):
            parts[2] = str(fuses.index(int(parts[2][len('stride') :])))
        old['.'.join(parts)] = value
    return old


def test_layers_are_named_by_the_stride_of_their_level():
    head = light_model('8s', learn_upsample=True).decode_head
    assert list(head.skip_scores) == ['stride8', 'stride16']
    assert list(head.fuse_upsamples) == ['stride32', 'stride16']
    fcn16s = light_model('16s', learn_upsample=True).decode_head
    assert list(fcn16s.skip_scores) == ['stride16']
    assert list(fcn16s.fuse_upsamples) == ['stride32']


@pytest.mark.parametrize(
    'num_skips, in_strides, expected',
    [
        (1, (16, 32), {'skip_scores.0': 'stride16', 'fuse_upsamples.0': 'stride32'}),
        (
            2,
            (8, 16, 32),
            {
                'skip_scores.0': 'stride8',
                'skip_scores.1': 'stride16',
                'fuse_upsamples.0': 'stride32',
                'fuse_upsamples.1': 'stride16',
            },
        ),
        # a coarser checkpoint in a finer head: its levels are the head's deepest
        (1, (8, 16, 32), {'skip_scores.0': 'stride16', 'fuse_upsamples.0': 'stride32'}),
        # a finer checkpoint in a coarser head: the default strides
        (
            2,
            (16, 32),
            {
                'skip_scores.0': 'stride8',
                'skip_scores.1': 'stride16',
                'fuse_upsamples.0': 'stride32',
                'fuse_upsamples.1': 'stride16',
            },
        ),
        # the head's own strides
        (1, (4, 32), {'skip_scores.0': 'stride4', 'fuse_upsamples.0': 'stride32'}),
    ],
)
def test_positions_map_to_levels(num_skips, in_strides, expected):
    keys = [f'decode_head.skip_scores.{k}.weight' for k in range(num_skips)]
    keys += [f'decode_head.fuse_upsamples.{k}.weight' for k in range(num_skips)]
    keys.append('decode_head.conv_seg.weight')
    renames = positional_renames(keys, 'decode_head.', in_strides)
    assert renames == {
        f'decode_head.{old}.weight': f'decode_head.{kind}.{new}.weight'
        for old, new in expected.items()
        for kind in [old.split('.')[0]]
    }
    assert positional_renames(list(renames.values()), 'decode_head.', in_strides) == {}


@pytest.mark.parametrize('variant', ['16s', '8s', '4s'])
def test_an_old_checkpoint_loads_with_equal_logits(variant, tmp_path):
    model = light_model(variant, learn_upsample=True).eval()
    for parameter in model.decode_head.parameters():
        torch.nn.init.normal_(parameter)
    old = _positional(model.state_dict())
    assert any('skip_scores.0.' in key for key in old)
    torch.save({'state_dict': old}, tmp_path / 'old.pth')
    image = torch.rand(1, 3, 70, 53) * 255
    with torch.no_grad():
        expected = model(image, mode='tensor')
    for load in ('load_state_dict', 'load_checkpoint'):
        fresh = light_model(variant, learn_upsample=True).eval()
        if load == 'load_state_dict':
            fresh.load_state_dict(old)  # strict: every key is found under its new name
        else:
            logger = MMLogger.get_current_instance()
            load_checkpoint(fresh, str(tmp_path / 'old.pth'), strict=True, logger=logger)
        with torch.no_grad():
            assert torch.equal(fresh(image, mode='tensor'), expected)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_the_mapping_is_logged_once():
    old = _positional(light_model('8s').state_dict())
    records = _Records()
    logger = MMLogger.get_current_instance()
    logger.addHandler(records)
    try:
        light_model('8s').load_state_dict(old)
    finally:
        logger.removeHandler(records)
    lines = [message for message in records.messages if 'by position' in message]
    assert lines == [
        'decode_head: the checkpoint names the skip layers by position (an '
        'older format); mapped skip_scores.0.bias -> skip_scores.stride8.bias'
        ', skip_scores.0.weight -> skip_scores.stride8.weight, '
        'skip_scores.1.bias -> skip_scores.stride16.bias, '
        'skip_scores.1.weight -> skip_scores.stride16.weight'
    ]
