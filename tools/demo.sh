#!/usr/bin/env bash
# The end-to-end demo on CPU: make the built-in shapes dataset, train the light FCN-8s
# through tools/train.py, evaluate it with mmseg's IoUMetric through tools/test.py, and
# draw predictions (every validation image, and the paper's Figure 4 for one).
# Everything lands in work_dirs/fcn8s_toy.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
config=configs/fcn8s_toy.py
work_dir=work_dirs/fcn8s_toy
python tools/make_toy_dataset.py --out data/toy_shapes
python tools/train.py "$config" --work-dir "$work_dir"
checkpoint="$(cat "$work_dir/last_checkpoint")"
python tools/test.py "$config" "$checkpoint" --work-dir "$work_dir/test" --show-dir vis
python tools/visualize_skips.py data/toy_shapes/img_dir/val/val_00001.png \
    --gt data/toy_shapes/ann_dir/val/val_00001.png \
    --configs "$config" --checkpoints "$checkpoint" --out "$work_dir/skips.png"
echo "Ground truth and predictions of every validation image: $work_dir/test/vis"
echo "Image, ground truth and the FCN-32s/16s/8s predictions of one image: $work_dir/skips.png"
