#!/bin/bash
# Debian packages the example needs: PyTorch (CPU), an optimised BLAS
# (without libopenblas0 Debian's torch multiplies with the reference BLAS,
# about twenty times slower here) and rsvg-convert for the PNG plots.
set -euo pipefail
need=()
/usr/bin/python3 -c "import torch" 2>/dev/null || need+=(python3-torch)
/usr/bin/python3 -c "import numpy" 2>/dev/null || need+=(python3-numpy)
for p in libopenblas0-pthread librsvg2-bin; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    [ "${MPB_APT_UPDATED:-0}" = 1 ] || $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
