#!/usr/bin/env bash
# The GPU figures of docs/performance.md, in one command on a CUDA machine:
#   bash tools/benchmark_gpu.sh [OUT_DIR] [VARIANT...]
# VARIANTs: fp32, bf16 (bf16 autocast + channels_last), compile (bf16 + channels_last +
# torch.compile); default all three. Each runs tools/analysis_tools/benchmark.py at
# batch 8, 512x512, 21 classes against mmseg's FCN R50-D8 and writes OUT_DIR/VARIANT.json
# (default OUT_DIR: work_dirs/benchmark); bf16 and compile also profile 3 steps of each
# model.
# Where mmseg is not installed, the wheels in .whl/ (made by tools/fetch_gpu_wheels.sh)
# are installed into /tmp/site first.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-work_dirs/benchmark}"
shift || true
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(fp32 bf16 compile)

if ! python3 -c 'import mmseg' 2>/dev/null; then
    if ! ls .whl/*.whl >/dev/null 2>&1; then
        echo 'mmseg is not installed and .whl/ has no wheels: run' \
             'tools/fetch_gpu_wheels.sh where PyPI is reachable, or pip install -e .' >&2
        exit 1
    fi
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else
    "no CUDA device here; tools/analysis_tools/benchmark.py alone runs the small CPU "
    "measurement")'
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv || true

mkdir -p "$out"
for variant in "${variants[@]}"; do
    case "$variant" in
        fp32) options=() ;;
        bf16) options=(--precision bf16 --channels-last --profile 3) ;;
        compile) options=(--precision bf16 --channels-last --compile --profile 3) ;;
        *) echo "unknown variant '$variant' (fp32, bf16, compile)" >&2; exit 1 ;;
    esac
    echo "== $variant"
    python3 tools/analysis_tools/benchmark.py --device cuda "${options[@]}" \
        --json "$out/$variant.json"
done
