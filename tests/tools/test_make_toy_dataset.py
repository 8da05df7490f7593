"""tools/make_toy_dataset.py: the demo's data, its defaults and its report."""

import sys

from tests.helpers.processes import load_tool, run_tool


def test_the_defaults_are_the_demos_data(monkeypatch):
    # tools/demo.sh runs it without options: 200 train and 40 val images, seed 0
    monkeypatch.setattr(sys, 'argv', ['make_toy_dataset.py'])
    args = load_tool('make_toy_dataset').parse_args()
    assert (args.out, args.num_train, args.num_val, args.seed) == ('data/toy_shapes', 200, 40, 0)


def test_it_writes_the_splits_and_says_where(tmp_path):
    out = tmp_path / 'toy'
    result = run_tool('make_toy_dataset', '--out', str(out), '--num-train', '3', '--num-val', '2')
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith(f'Wrote 3 train and 2 val images to {out}')
    for split, count in (('train', 3), ('val', 2)):
        assert len(list((out / 'img_dir' / split).glob('*.png'))) == count
        assert len(list((out / 'ann_dir' / split).glob('*.png'))) == count
