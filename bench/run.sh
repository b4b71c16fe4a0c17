#!/usr/bin/env bash
# mpiblend's benchmark in one command (see docs/PERFORMANCE.md):
#
#   bash bench/run.sh [--quick] [--big] [--tune] [--reps N] [--keep] [--suites LIST]
#
#   --quick   3 repetitions instead of 5
#   --big     also qwen3-4b (8 GB per file, about 40 GB of disk; slow)
#   --tune    also the tuning table (slab size, alignment, I/O mode, ROMIO, PML)
#   --suites  these instead of main,moe,sweep,kernel (comma-separated; also
#             tune, big, collective, methods); --big and --tune still add theirs
#   --keep    keep the synthetic checkpoints for the next run
#
# Environment: MPB_BUILD (build folder, default build-bench in the repository;
# built here if mpiblend is missing or stale), MPB_BENCH_NO_TORCH=1 (skip the
# torch peers, which take minutes), MPB_BENCH_WORK (folder for the
# checkpoints, default ${TMPDIR:-/tmp}/mpiblend-bench).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MPB_BUILD:-$repo/build-bench}
work=${MPB_BENCH_WORK:-${TMPDIR:-/tmp}/mpiblend-bench}
python=/usr/bin/python3

suites=main,moe,sweep,kernel
more=""
command="bash bench/run.sh $*"
extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --big) more=$more,big ;;
        --tune) more=$more,tune ;;
        --suites) suites=${2:?--suites needs a list}; shift ;;
        --reps) extra+=(--reps "$2"); shift ;;
        --quick|--keep) extra+=("$1") ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

suites=$suites$more

# Debian packages the peers need; installed only when missing.
need=()
$python -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
$python -c 'import h5py' 2>/dev/null || need+=(python3-h5py)
$python -c 'import h5py._debian_h5py_mpi' 2>/dev/null || need+=(python3-h5py-mpi)
$python -c 'import mpi4py' 2>/dev/null || need+=(python3-mpi4py)
[ -x /usr/bin/time ] || need+=(time)
if ! $python -c 'import torch' 2>/dev/null; then
    if apt-cache policy python3-torch 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        need+=(python3-torch)
    else
        echo "run.sh: python3-torch is not available from apt here; the torch peer is skipped" >&2
    fi
fi
if [ ${#need[@]} -gt 0 ]; then
    echo "run.sh: installing ${need[*]}" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y --no-install-recommends "${need[@]}" >&2 ||
        { $sudo apt-get update -qq >&2 &&
          $sudo apt-get install -y --no-install-recommends "${need[@]}" >&2; }
fi

# Configure (picks up new targets) and build incrementally: cheap when
# everything is up to date.
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target mpiblend >&2
kernel=""
if cmake --build "$build" -j2 --target mpb_kernel_bench >/dev/null 2>&1; then
    kernel=$(find "$build" -name mpb_kernel_bench -type f -perm -u+x | head -n1)
fi

# Open MPI refuses root without these; containers often run as root.
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

mkdir -p "$work"
cd "$repo/bench"
exec $python harness.py --mpiblend "$build/mpiblend" --work "$work" \
    ${kernel:+--kernel-bench "$kernel"} --suites "$suites" \
    --command "${command% }" "${extra[@]}"
