#!/usr/bin/env bash
# Installs what CI needs beyond scripts/install-deps.sh: clang and its runtime libraries for the
# libFuzzer target (libclang-rt-14-dev), and setpriv (util-linux) for the permission tests.
# Safe to rerun: does nothing when everything is installed.
set -euo pipefail
exec bash "$(dirname "$0")/install-deps.sh" clang libclang-rt-14-dev util-linux
