#!/usr/bin/env bash
# Configures and builds ts2coreml into build/ (CLI: build/bin/ts2coreml, built-in plugins:
# build/lib/ts2coreml/plugins/). Safe to rerun: builds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."
# Line tables only (-g1): full debug info doubles the compile time of every LibTorch translation
# unit (docs/performance.md, "CI"); backtraces and sanitizer reports keep file and line.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" > /dev/null
cmake --build build -j "$(nproc)"
