#!/usr/bin/env bash
# Installs ts2coreml's build and test dependencies from Debian 12 packages (run as root), or,
# given package names as arguments, exactly those (scripts/ci-deps.sh does).
# Safe to rerun: does nothing when everything is installed.
set -euo pipefail

DEFAULT_PACKAGES=(
  cmake ninja-build g++ make
  libtorch-dev libopenblas0-pthread
  libprotobuf-dev protobuf-compiler
  libboost-dev libboost-filesystem-dev
  libabsl-dev libgtest-dev libgmock-dev
  python3-torch python3-torchvision
  libutfcpp-dev
  zlib1g-dev
  nlohmann-json3-dev
  libelf-dev
  libxxhash-dev
)
if [ "$#" -gt 0 ]; then
  PACKAGES=("$@")
else
  PACKAGES=("${DEFAULT_PACKAGES[@]}")
fi

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
  echo "install-deps.sh: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
