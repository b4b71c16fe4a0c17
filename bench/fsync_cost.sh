#!/usr/bin/env bash
# What the data fsync before publishing costs (docs/RELIABILITY.md,
# "Durable outputs"): one merge of two qwen3-0.6b checkpoints (1.2 GB per
# file), by a build without the fsync and one with it, interleaved, REPS
# times each; prints every wall time and the medians.
#
#   bash bench/fsync_cost.sh BUILD_WITHOUT BUILD_WITH [REPS] [NP]
#
# BUILD_WITHOUT is a build of a commit before the fsync (c4456e7), BUILD_WITH
# this one.  Checkpoints go to ${MPB_BENCH_WORK:-${TMPDIR:-/tmp}/mpiblend-fsync}
# (about 5 GB) and are removed at the end.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
without=${1:?build folder without the fsync}/mpiblend
with=${2:?build folder with the fsync}/mpiblend
reps=${3:-5}
np=${4:-2}
work=${MPB_BENCH_WORK:-${TMPDIR:-/tmp}/mpiblend-fsync}
run="$repo/scripts/mpirun.sh -np $np"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
$run "$with" synth --arch qwen3-0.6b --seed 1 --quiet "$work/a.h5"
$run "$with" synth --arch qwen3-0.6b --seed 2 --quiet "$work/b.h5"
printf 'merge_method: interpolate\nmodels:\n  - model: a.h5\n  - model: b.h5\nparameters:\n  lambda: 0.45\n' \
    > "$work/mi.yaml"
one() { # binary -> wall seconds of one merge into a fresh name
    rm -f "$work/out.h5"
    sync
    local t0 t1
    t0=$(date +%s.%N)
    $run "$1" merge "$work/mi.yaml" --out "$work/out.h5" --quiet
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}
declare -a a b
for ((i = 0; i < reps; i++)); do
    a+=("$(one "$without")")
    b+=("$(one "$with")")
    echo "run $((i + 1)): without fsync ${a[-1]} s, with fsync ${b[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ma=$(median "${a[@]}"); mb=$(median "${b[@]}")
echo "median without fsync: $ma s; with fsync: $mb s; ratio $(echo "scale=3; $mb / $ma" | bc)"
