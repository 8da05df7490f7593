#!/usr/bin/env bash
# The end-to-end demo on CPU: make the built-in shapes dataset, train the light FCN-8s
# through tools/train.py, evaluate it with mmseg's IoUMetric through tools/test.py, and
# draw predictions. Everything lands in work_dirs/fcn8s_toy.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
config=configs/fcn8s_toy.py
work_dir=work_dirs/fcn8s_toy
python tools/make_toy_dataset.py --out data/toy_shapes
python tools/train.py "$config" --work-dir "$work_dir"
checkpoint="$(cat "$work_dir/last_checkpoint")"
python tools/test.py "$config" "$checkpoint" --work-dir "$work_dir/test" --show-dir vis
echo "Predictions drawn under $work_dir/test/vis"
