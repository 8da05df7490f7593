import re
from collections import OrderedDict

import pytest
import torch

from mmseg_fcn_skip.checkpoints import read_weights
from mmseg_fcn_skip.checkpoints.converters import make_checkpoint
from mmseg_fcn_skip.checkpoints.converters.common import (
    ConvParams,
    check_keys,
    fc_as_conv,
    vgg_backbone_state_dict,
)


def test_check_keys_lists_missing_and_unknown():
    check_keys(['a', 'b', 'opt'], ['a', 'b'], 'X', optional=['opt'])
    with pytest.raises(KeyError, match=re.escape("missing ['b'], unknown ['z']")):
        check_keys(['a', 'z'], ['a', 'b'], 'X')


def test_fc_as_conv():
    weight = torch.arange(2 * 3 * 4.0).reshape(2, 12)
    conv = fc_as_conv('fc', weight, 3, 2)
    assert conv.shape == (2, 3, 2, 2)
    assert conv[1, 2, 1, 0] == weight[1, 2 * 4 + 1 * 2 + 0]
    assert fc_as_conv('fc', conv, 3, 2) is conv
    with pytest.raises(ValueError, match=r'expected \(F, 12\) .* or \(F, 3, 2, 2\)'):
        fc_as_conv('fc', torch.zeros(2, 13), 3, 2)


def test_norm_without_batch_count_starts_at_zero():
    convs = []
    in_channels = 3
    for width in (64, 128, 256, 256, 512, 512, 512, 512):
        norm = {
            name: torch.ones(width) for name in ('weight', 'bias', 'running_mean', 'running_var')
        }
        convs.append(ConvParams('c', torch.zeros(width, in_channels, 3, 3), None, norm))
        in_channels = width
    fc6 = (torch.zeros(4, 512 * 49), torch.zeros(4))
    fc7 = (torch.zeros(4, 4), torch.zeros(4))
    state_dict = vgg_backbone_state_dict(convs, fc6, fc7, depth=11)
    assert state_dict['blocks.0.0.bn.num_batches_tracked'] == 0
    # no conv bias: nothing to fold into the running mean
    assert torch.equal(state_dict['blocks.4.1.bn.running_mean'], torch.ones(512))


def test_make_checkpoint_reads_back(tmp_path):
    weight = torch.arange(6.0).reshape(2, 3).t()
    checkpoint = make_checkpoint(OrderedDict(w=weight), dict(source='test'))
    assert checkpoint['state_dict']['w'].is_contiguous()
    path = tmp_path / 'ckpt.pth'
    torch.save(checkpoint, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['meta'] == {'source': 'test'}
    assert torch.equal(read_weights(path)['w'], weight)
