#!/usr/bin/env bash
# The end-to-end demo on CPU, the paper's central result on the built-in shapes data:
# FCN-32s, FCN-16s, FCN-8s and FCN-4s trained as four separate nets through
# tools/train.py (the same light VGG16, data, schedule and seed: only the skips differ),
# each scored on the validation set with mmseg's IoUMetric
# (tools/analysis_tools/compare_runs.py: mIoU and the IoU of every class; the 2-4 px
# "bar" class is where the skips matter), and one validation image drawn as the paper's
# Figure 4 from the four checkpoints (tools/analysis_tools/visualize_skips.py).
# Checkpoints: work_dirs/fcn{32,16,8,4}s_toy; table and figure: work_dirs/toy_skips.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
# OpenMP threads that sleep instead of spinning while they wait: the same numbers bit for
# bit, 4-7x faster training when other jobs share the cores, about 1.3x slower on an
# idle machine, where OMP_WAIT_POLICY=ACTIVE is the faster choice (docs/reproducibility.md).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
start=$SECONDS
out=work_dirs/toy_skips
image=val_00019.png  # all five classes, two thin bars
python tools/make_toy_dataset.py --out data/toy_shapes
configs=()
checkpoints=()
for net in fcn32s fcn16s fcn8s fcn4s; do
    echo "=== Training ${net}_toy ($(( (SECONDS - start) / 60 )) min into the demo)"
    python tools/train.py "configs/${net}_toy.py" --work-dir "work_dirs/${net}_toy"
    configs+=("configs/${net}_toy.py")
    checkpoints+=("$(cat "work_dirs/${net}_toy/last_checkpoint")")
done
mkdir -p "$out"
python tools/analysis_tools/compare_runs.py \
    --configs "${configs[@]}" --checkpoints "${checkpoints[@]}" \
    --names FCN-32s FCN-16s FCN-8s FCN-4s --json "$out/scores.json" | tee "$out/scores.md"
python tools/analysis_tools/visualize_skips.py "data/toy_shapes/img_dir/val/$image" \
    --gt "data/toy_shapes/ann_dir/val/$image" \
    --configs "${configs[@]}" --checkpoints "${checkpoints[@]}" --out "$out/skips.png"
elapsed=$(( SECONDS - start ))
echo "Scores: $out/scores.md (and .json)"
echo "Image, ground truth and the FCN-32s/16s/8s/4s predictions: $out/skips.png"
echo "The demo took $(( elapsed / 60 )) min $(( elapsed % 60 )) s on $(nproc) CPU cores" \
    "(load average over 1, 5, 15 min: $(cut -d ' ' -f 1-3 /proc/loadavg))"
