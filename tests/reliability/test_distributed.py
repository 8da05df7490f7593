"""Two gloo processes on CPU train on batches of mixed image sizes, seeded per rank."""

import json
import sys

from tests.helpers import REPO
from tests.helpers.light_models import TINY_CONFIG
from tests.helpers.processes import run
from tests.helpers.training_runs import data_options, derived_config, make_toy_data, with_probes

MAX_ITERS = 3
# No resizing or cropping, and no fixed batch size: every image keeps its own size
# (33..71 px) and each batch is padded to its largest image (rounded up to 32).
MIXED_SIZES = f"""
model = dict(data_preprocessor=dict(size=None, size_divisor=32))
train_pipeline = [
    dict(type='ApplySampleSeed'),
    dict(type='CheckSegFiles'),
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegPair', num_classes=5),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
train_cfg = dict(max_iters={MAX_ITERS}, val_interval={MAX_ITERS})
default_hooks = dict(checkpoint=dict(interval={MAX_ITERS}))
randomness = dict(seed=0, diff_rank_seed=True)
"""


def test_two_cpu_processes_train_on_mixed_sizes_with_rank_seeds(tmp_path):
    data_root = make_toy_data(tmp_path / 'data')
    config = derived_config(
        tmp_path, 'dist', MIXED_SIZES + with_probes("dict(type='RecordRankHook')"), base=TINY_CONFIG
    )
    work_dir = tmp_path / 'work'
    command = [
        # --standalone: torchrun picks a free port itself, so parallel runs never clash
        sys.executable,
        '-m',
        'torch.distributed.run',
        '--standalone',
        '--nproc_per_node',
        '2',
        str(REPO / 'tools' / 'train.py'),
        str(config),
        '--launcher',
        'pytorch',
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        *data_options(data_root),
    ]
    result = run(command)
    assert result.returncode == 0, result.stderr[-4000:]

    ranks = [json.loads((work_dir / f'rank{r}.json').read_text()) for r in (0, 1)]
    assert [r['world_size'] for r in ranks] == [2, 2]
    assert [r['iterations'] for r in ranks] == [MAX_ITERS, MAX_ITERS]
    # diff_rank_seed: each rank's seed is the base seed plus its rank.
    assert ranks[1]['seed'] == ranks[0]['seed'] + 1
    for record in ranks:
        assert len(record['batches']) == MAX_ITERS
        assert any(len({tuple(size) for size in batch}) > 1 for batch in record['batches']), (
            'no batch mixed image sizes'
        )
    # The ranks drew different images, and DDP kept their weights identical.
    assert ranks[0]['files'] != ranks[1]['files']
    assert ranks[0]['weight_checksum'] == ranks[1]['weight_checksum']
    assert (work_dir / f'iter_{MAX_ITERS}.pth').is_file()
