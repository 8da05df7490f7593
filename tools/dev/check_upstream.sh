#!/usr/bin/env bash
# Build (or reuse) an environment with the last upstream OpenMMLab releases and run the
# test suite in it:
#   mmsegmentation 1.2.2, mmengine 0.10.7, mmcv 2.1.0 (built from source with its CPU ops),
#   torch 2.13 (CPU), numpy 1.26; the plugin installed with --no-deps.
# This is what most mmseg users have; the plugin must keep working there. Not run in CI:
# compiling mmcv took 85 minutes on 2 cores shared with other jobs (about 30 on idle
# ones); pip keeps the built wheel in its cache, so a rebuilt environment reuses it.
#
# Usage: bash tools/dev/check_upstream.sh [pytest arguments]
# Environment:
#   UPSTREAM_VENV  where the environment lives (default ~/.cache/mmseg-fcn-skip/upstream-venv;
#                  keep it outside the repository)
#   PYTHON         interpreter for a new environment (default python3)
#   TORCH_SPEC     torch requirement (default torch==2.13.0)
#   MAX_JOBS       parallel compile jobs for mmcv (default 2)
#   BUILD_ONLY=1   build the environment, run no tests
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${UPSTREAM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mmseg-fcn-skip/upstream-venv}"
case "$(realpath -m "$venv")/" in
    "$repo_root"/*) echo "UPSTREAM_VENV must lie outside the repository: $venv" >&2; exit 2 ;;
esac

if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv"
    mkdir -p "$(dirname "$venv")"
    "${PYTHON:-python3}" -m venv "$venv"
fi
py="$venv/bin/python"
# numpy stays below 2 in every step: the upstream mmcv 2.1.0 build and era expect numpy 1.
# opencv-python >= 4.12 requires numpy 2; mmcv 2.1.0's setup.py needs pkg_resources (setuptools < 81).
pins=("numpy<2" "opencv-python<4.12")
pip_install() { "$py" -m pip install --quiet "$@" "${pins[@]}"; }

echo "== torch, numpy 1, mmengine 0.10.7 and mmcv's build needs"
pip_install "${TORCH_SPEC:-torch==2.13.0}" "mmengine==0.10.7" \
    "setuptools>=77.0.3,<81" wheel ninja packaging addict yapf pyyaml Pillow

if ! "$py" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' 2>/dev/null; then
    echo "== building mmcv 2.1.0 with its CPU ops (slow: 30 to 90 minutes on 2 cores)"
    MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-2}" \
        nice -n 15 "$py" -m pip install --no-build-isolation \
        "mmcv==2.1.0" "${pins[@]}"
fi

echo "== mmsegmentation 1.2.2, the plugin (--no-deps) and the test needs"
pip_install "mmsegmentation==1.2.2" pytest onnx onnxruntime ftfy regex
"$py" -m pip install --quiet --no-deps -e "$repo_root"
"$py" - <<'EOF'
import mmcv, mmengine, mmseg, numpy, torch
from mmcv.ops import nms  # the compiled ops are there
print(f'torch {torch.__version__}, numpy {numpy.__version__}, mmengine {mmengine.__version__}, '
      f'mmcv {mmcv.__version__}, mmseg {mmseg.__version__}')
EOF

if [ "${BUILD_ONLY:-0}" = 1 ]; then
    exit 0
fi
echo "== test suite on the upstream stack"
cd "$repo_root"
# No escape hatch: the suite must pass without torch's weights_only override.
unset TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD TORCH_FORCE_WEIGHTS_ONLY_LOAD
exec nice -n 10 "$py" -m pytest -q "$@"
