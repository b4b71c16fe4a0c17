#!/usr/bin/env bash
# Configures and builds into build/ (or $MPB_BUILD_DIR) after setup.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/setup.sh"
build="${MPB_BUILD_DIR:-$here/build}"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE="${MPB_BUILD_TYPE:-RelWithDebInfo}" \
    -DBUILD_TESTING=ON ${MPB_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
