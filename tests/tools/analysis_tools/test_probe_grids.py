"""tools/analysis_tools/probe_grids.py: prints each level's grid and the in_grids to set."""

import pytest

from tests.helpers import REPO
from tests.helpers.processes import load_tool

LIGHT_R50 = [
    'model.backbone.depth=18',
    'model.backbone.base_channels=8',
    'model.backbone.stem_channels=8',
    'model.decode_head.in_channels=[16,32,64]',
]

R50_CONFIG = str(REPO / 'configs' / 'fcn_skip' / 'fcn8s_r50-v1c_4xb4-40k_voc12aug-512x512.py')


@pytest.mark.parametrize('in_grids, shifted', [('corner', False), ('centre', True)])
def test_the_tool_prints_the_grids_and_the_shift(capsys, in_grids, shifted):
    result = load_tool('analysis_tools/probe_grids').main(
        [
            R50_CONFIG,
            '--size',
            '160',
            '--seeds',
            '2',
            '--shift',
            '--cfg-options',
            *LIGHT_R50,
            f'model.decode_head.in_grids={in_grids}',
        ]
    )
    printed = capsys.readouterr().out
    assert [g.stride for g in result['grids']] == [8, 16, 32]
    assert result['in_grids'] == 'corner'
    assert "FCNSkipHead: in_grids='corner'" in printed
    shift, _ = result['shift']
    assert (abs(shift) > 3) is shifted
    assert f'mean shift of the logits: {shift:+.2f}' in printed


def test_an_odd_batch_is_refused(capsys):
    with pytest.raises(SystemExit):
        load_tool('analysis_tools/probe_grids').main([R50_CONFIG, '--batch', '3'])
    assert '--batch 3 must be an even number' in capsys.readouterr().err
