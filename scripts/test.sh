#!/usr/bin/env bash
# The test suite: set-up, build, then every unit, MPI and end-to-end test
# through ctest.  Extra arguments go to ctest (e.g. -R merge).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/build.sh"
cd "${MPB_BUILD_DIR:-$here/build}"
# MPI tests oversubscribe the cores anyway; two at a time keeps them busy.
# The reduced language-model example (label "example": it trains with torch
# for about 3 minutes) runs in CI's extra checks, scripts/ci-extra.sh, to
# keep this command near 10 minutes; `scripts/test.sh -L example` runs it.
[ $# -gt 0 ] || set -- -j"$(nproc)" -LE example
ctest --output-on-failure "$@"
