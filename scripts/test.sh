#!/usr/bin/env bash
# The whole test suite: set-up, build, then every unit, MPI and end-to-end
# test through ctest.  Extra arguments go to ctest (e.g. -R merge).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/build.sh"
cd "${MPB_BUILD_DIR:-$here/build}"
# MPI tests oversubscribe the cores anyway; two at a time keeps them busy.
[ $# -gt 0 ] || set -- -j"$(nproc)"
ctest --output-on-failure "$@"
