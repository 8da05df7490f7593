#!/usr/bin/env bash
# The end-to-end demo on CPU, the paper's central result on the built-in shapes data:
# FCN-32s, FCN-16s, FCN-8s and FCN-4s trained as four separate nets through
# tools/train.py (the same light VGG16, data, schedule and seed: only the skips differ),
# each scored on the validation set with mmseg's IoUMetric
# (tools/analysis_tools/compare_runs.py: mIoU and the IoU of every class; the 2-4 px
# "bar" class is where the skips matter), and one validation image drawn as the paper's
# Figure 4 from the four checkpoints (tools/analysis_tools/visualize_skips.py).
# Checkpoints: work_dirs/fcn{32,16,8,4}s_toy; table, figure and the time of each step:
# work_dirs/toy_skips.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
# OpenMP's wait policy changes no number, only the time (docs/reproducibility.md): its
# threads spinning while they wait (ACTIVE, the demo's default) is the faster choice on
# an idle machine; on one that other jobs keep busy, OMP_WAIT_POLICY=PASSIVE bash
# tools/demo.sh is many times faster.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-ACTIVE}"
if [ "$OMP_WAIT_POLICY" = ACTIVE ] \
        && awk -v cores="$(nproc)" '{ exit !($1 > cores / 2) }' /proc/loadavg 2>/dev/null; then
    echo "Other jobs keep the CPUs busy (load average $(cut -d ' ' -f 1 /proc/loadavg));" \
        "OMP_WAIT_POLICY=PASSIVE bash tools/demo.sh is faster on a shared machine"
fi
# Images are loaded in the training process: on 2 cores, worker processes take cycles
# from the training's own threads (the same samples, seeded per sample, either way).
# The trainings skip their own validation: compare_runs.py scores every net after.
no_workers=(train_dataloader.num_workers=0 train_dataloader.persistent_workers=False
            val_dataloader.num_workers=0 val_dataloader.persistent_workers=False)
start=$SECONDS
out=work_dirs/toy_skips
mkdir -p "$out"
times="$out/times.txt"
: > "$times"
step_start=$SECONDS
timed() {  # timed NAME: append the seconds since the last call to the times file
    echo "$1 $(( SECONDS - step_start ))" >> "$times"
    step_start=$SECONDS
}
image=val_00019.png  # all five classes, two thin bars
python tools/make_toy_dataset.py --out data/toy_shapes
timed make_toy_dataset
configs=()
checkpoints=()
for net in fcn32s fcn16s fcn8s fcn4s; do
    echo "=== Training ${net}_toy ($(( (SECONDS - start) / 60 )) min into the demo)"
    python tools/train.py "configs/${net}_toy.py" --work-dir "work_dirs/${net}_toy" \
        --cfg-options "${no_workers[@]}" train_cfg.val_interval=1000000
    timed "train_${net}"
    configs+=("configs/${net}_toy.py")
    checkpoints+=("$(cat "work_dirs/${net}_toy/last_checkpoint")")
done
python tools/analysis_tools/compare_runs.py \
    --configs "${configs[@]}" --checkpoints "${checkpoints[@]}" \
    --names FCN-32s FCN-16s FCN-8s FCN-4s --json "$out/scores.json" \
    --cfg-options val_dataloader.num_workers=0 val_dataloader.persistent_workers=False \
    | tee "$out/scores.md"
timed score
python tools/analysis_tools/visualize_skips.py "data/toy_shapes/img_dir/val/$image" \
    --gt "data/toy_shapes/ann_dir/val/$image" \
    --configs "${configs[@]}" --checkpoints "${checkpoints[@]}" --out "$out/skips.png"
timed draw
elapsed=$(( SECONDS - start ))
echo "Scores: $out/scores.md (and .json)"
echo "Image, ground truth and the FCN-32s/16s/8s/4s predictions: $out/skips.png"
echo "Seconds per step ($times): $(tr '\n' ' ' < "$times")"
echo "The demo took $(( elapsed / 60 )) min $(( elapsed % 60 )) s on $(nproc) CPU cores" \
    "(OMP_WAIT_POLICY=$OMP_WAIT_POLICY; load average over 1, 5, 15 min:" \
    "$(cut -d ' ' -f 1-3 /proc/loadavg))"
