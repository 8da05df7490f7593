"""A run killed with SIGKILL and resumed ends with the uninterrupted run's weights.

Both runs go through ``tools/train.py`` in subprocesses on tiny toy data with 2
data loader workers, dropout, random resize/crop/flip/photometric augmentation and
a validation between the checkpoint and the kill. The killed run is also left with
a truncated newer checkpoint that ``last_checkpoint`` points at, so ``--resume``
must pass over it to the intact one.
"""

import subprocess

import torch

from tests.helpers.processes import run, subprocess_env
from tests.helpers.training_runs import (
    data_options,
    derived_config,
    make_toy_data,
    state_dict,
    train_command,
    truncate,
    with_probes,
)

KILL_AT = 6  # between the checkpoints at iterations 4 and 8


def test_sigkill_then_resume_is_bit_exact(tmp_path):
    data_root = make_toy_data(tmp_path / 'data')
    options = data_options(data_root)
    straight_dir, killed_dir = tmp_path / 'straight', tmp_path / 'killed'
    kill_config = derived_config(
        tmp_path, 'killed', with_probes(f"dict(type='SigkillAtIterHook', iteration={KILL_AT})")
    )
    straight = subprocess.Popen(
        train_command(straight_dir, options),
        env=subprocess_env(threads=1),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = run(train_command(killed_dir, options, config=kill_config))
    _, straight_err = straight.communicate(timeout=240)
    assert straight.returncode == 0, straight_err[-3000:]
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert sorted(p.name for p in killed_dir.glob('*.pth')) == ['iter_4.pth']

    # A crash while writing the next checkpoint, after last_checkpoint was updated.
    damaged = killed_dir / 'iter_6.pth'
    damaged.write_bytes((killed_dir / 'iter_4.pth').read_bytes())
    truncate(damaged)
    (killed_dir / 'last_checkpoint').write_text(str(damaged))

    resumed = run(train_command(killed_dir, options, '--resume'))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stdout + resumed.stderr
    assert f'Resuming from {killed_dir / "iter_4.pth"}' in log
    assert 'iter_6.pth is damaged' in log
    assert 'resumed epoch: 0, iter: 4' in log
    assert damaged.exists()  # passed over, not deleted

    expected = state_dict(straight_dir / 'iter_8.pth')
    got = state_dict(killed_dir / 'iter_8.pth')
    assert expected.keys() == got.keys()
    differing = [k for k in expected if not torch.equal(expected[k], got[k])]
    assert differing == []
    # Dropout and augmentation were really random: training changed the weights.
    start = state_dict(killed_dir / 'iter_4.pth')
    assert not torch.equal(start['decode_head.conv_seg.weight'], got['decode_head.conv_seg.weight'])
