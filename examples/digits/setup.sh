#!/bin/bash
# Debian packages the study needs (scikit-learn ships the digits data).
set -euo pipefail
need=()
/usr/bin/python3 -c "import sklearn" 2>/dev/null || need+=(python3-sklearn)
/usr/bin/python3 -c "import matplotlib" 2>/dev/null || need+=(python3-matplotlib)
/usr/bin/python3 -c "import h5py, numpy" 2>/dev/null || need+=(python3-h5py python3-numpy)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
