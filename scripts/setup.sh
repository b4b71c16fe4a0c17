#!/usr/bin/env bash
# Installs what mpiblend needs to build and test, from Debian 12 packages.
# Idempotent and quiet when everything is present.
set -euo pipefail
packages=(cmake make gcc pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev
          hdf5-tools libcmocka-dev libyaml-dev libjansson-dev
          python3 python3-numpy python3-h5py strace ${MPB_EXTRA_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
[ "${MPB_APT_UPDATED:-0}" = 1 ] || $sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
