#!/usr/bin/env bash
# The main job: install, build, make the default model (torchvision mobilenet_v3_large,
# weights=None, seed 0, BatchNorm calibrated, traced at 1x3x224x224), convert it to an FP16
# Core ML package and print the conversion summary. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
/usr/bin/python3 tests/models/make_models.py build/models mobilenet_v3_large > /dev/null
build/bin/ts2coreml convert build/models/mobilenet_v3_large.pt -o build/mnv3.mlpackage \
  --input x:1x3x224x224 --precision fp16 --force
