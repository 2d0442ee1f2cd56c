#!/usr/bin/env bash
# Installs what CI needs beyond scripts/install-deps.sh: clang and its runtime libraries for the
# libFuzzer target (libclang-rt-14-dev), and setpriv (util-linux) for the permission tests.
# Safe to rerun: does nothing when everything is installed.
set -euo pipefail

PACKAGES=(clang libclang-rt-14-dev util-linux)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ci-deps.sh: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
echo "ci-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
