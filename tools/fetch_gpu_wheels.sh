#!/usr/bin/env bash
# For a GPU machine without network access: run this on a machine with network, to
# make the wheels of MMSegmentation's stack in .whl/ of this checkout (about 5 MB), then
# copy the checkout with .whl/ to the GPU machine (which needs Python and a CUDA build
# of PyTorch already); tools/benchmark_gpu.sh installs the wheels there when mmseg is
# missing. `pip wheel` rather than `pip download`: onedl-mmsegmentation is published as
# a source archive only; every wheel made is pure Python or abi3, so it installs on
# any Python 3.9+. .whl/ is in .gitignore. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip wheel --quiet --no-deps -w .whl \
    onedl-mmsegmentation==1.4.2 onedl-mmengine==0.10.12 onedl-mmcv==2.3.6 \
    addict==2.4.0 yapf==0.43.0 platformdirs==4.14.8 termcolor==3.3.0 ftfy==6.3.1 \
    prettytable==3.18.0 wcwidth==0.9.4
ls -l .whl
