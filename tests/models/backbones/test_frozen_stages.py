"""FullyConvVGG(frozen_stages=k) for every k: which parameters get no gradient, which
layers stay in eval mode, and that train() keeps both; with norm_eval alongside."""

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg_fcn_skip.models.backbones import FullyConvVGG

BN = dict(type='BN')


def make_backbone(frozen_stages, norm_eval=False):
    return FullyConvVGG(
        depth=11,
        base_channels=4,
        fc_channels=16,
        norm_cfg=BN,
        frozen_stages=frozen_stages,
        norm_eval=norm_eval,
        dropout_ratio=0.0,
    )


def expected_frozen(backbone, frozen_stages):
    """Parameter names of blocks 0..frozen_stages, and of fc6 and fc7 at 5."""
    prefixes = [f'blocks.{i}.' for i in range(frozen_stages + 1)]
    if frozen_stages == 5:
        prefixes += ['fc6.', 'fc7.']
    return {
        name for name, _ in backbone.named_parameters() if any(name.startswith(p) for p in prefixes)
    }


@pytest.mark.parametrize('frozen_stages', range(-1, 6))
def test_exactly_the_frozen_stages_get_no_gradient(frozen_stages):
    backbone = make_backbone(frozen_stages)
    names = {name for name, _ in backbone.named_parameters()}
    frozen = {name for name, p in backbone.named_parameters() if not p.requires_grad}
    expected = expected_frozen(backbone, frozen_stages)
    assert frozen == expected
    # Every block has a conv weight and a norm weight: the count grows block by block.
    blocks = min(frozen_stages + 1, 5)
    assert {n.split('.')[1] for n in frozen if n.startswith('blocks.')} == {
        str(i) for i in range(blocks)
    }
    assert ('fc6.conv.weight' in frozen) == ('fc7.conv.weight' in frozen) == (frozen_stages == 5)
    backbone.train()
    assert {n for n, p in backbone.named_parameters() if not p.requires_grad} == expected
    # A training step leaves gradients on the trainable parameters only.
    levels = backbone(torch.randn(2, 3, 32, 32))
    loss = sum(level.square().mean() for level in levels)
    assert loss.requires_grad == (frozen_stages < 5)
    if loss.requires_grad:
        loss.backward()
    with_grad = {n for n, p in backbone.named_parameters() if p.grad is not None}
    assert with_grad == names - expected


@pytest.mark.parametrize('frozen_stages', range(-1, 6))
@pytest.mark.parametrize('norm_eval', [False, True])
def test_train_keeps_the_frozen_stages_in_eval_mode(frozen_stages, norm_eval):
    backbone = make_backbone(frozen_stages, norm_eval)
    backbone.train()
    for index, block in enumerate(backbone.blocks):
        frozen = index <= frozen_stages
        norms = [m for m in block.modules() if isinstance(m, _BatchNorm)]
        assert len(norms) == len(block)
        assert all(m.training == (not frozen and not norm_eval) for m in norms), index
        assert block.training == (not frozen)
    for fc in (backbone.fc6, backbone.fc7):
        assert fc.training == (frozen_stages != 5)
    backbone.eval()
    assert not any(m.training for m in backbone.modules())
    backbone.train()
    assert backbone.blocks[-1].training == (frozen_stages < 4)


@pytest.mark.parametrize('frozen_stages', [0, 2, 4])
def test_frozen_norm_statistics_do_not_move_in_training(frozen_stages):
    backbone = make_backbone(frozen_stages).train()
    before = {n: b.clone() for n, b in backbone.named_buffers() if 'running_mean' in n}
    backbone(torch.randn(2, 3, 32, 32) * 3 + 1)
    for name, value in backbone.named_buffers():
        if name in before:
            block = int(name.split('.')[1])
            moved = not torch.equal(value, before[name])
            assert moved == (block > frozen_stages), name


@pytest.mark.parametrize('frozen_stages', [-2, 6])
def test_frozen_stages_out_of_range_are_refused(frozen_stages):
    with pytest.raises(ValueError, match=r'frozen_stages=.* must be in -1\.\.5'):
        make_backbone(frozen_stages)
