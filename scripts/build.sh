#!/usr/bin/env bash
# Configures and builds ts2coreml into build/ (CLI: build/bin/ts2coreml, built-in plugins:
# build/lib/ts2coreml/plugins/). Safe to rerun: builds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j "$(nproc)"
