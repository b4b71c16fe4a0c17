#!/usr/bin/env bash
# Configures and builds into build/ (or $MPB_BUILD_DIR).  On Debian, first
# installs what is missing (scripts/setup.sh: apt, needs root or sudo); not
# on other systems, nor with MPB_SKIP_SETUP=1 (clusters: load the modules or
# Spack environment first; README "Building on a cluster").  Extra CMake
# arguments: $MPB_CMAKE_ARGS (e.g. -DHDF5_ROOT=...).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${MPB_SKIP_SETUP:-0}" != 1 ] && [ -f /etc/debian_version ] && command -v dpkg-query >/dev/null; then
    "$here/scripts/setup.sh"
fi
build="${MPB_BUILD_DIR:-$here/build}"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE="${MPB_BUILD_TYPE:-RelWithDebInfo}" \
    -DBUILD_TESTING=ON ${MPB_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
