#!/usr/bin/env bash
# The parallel I/O floor: P plain processes at once, process p reading the
# p-th 1/P of every input and writing the p-th 1/P of every output with dd in
# 4 MiB blocks.  No HDF5, no arithmetic: the least time any merge of these
# files can take with P processes.  Outputs are removed first, because every
# merge creates its output anew (a file written in place would be cheaper).
#
# usage: bash bench/floor.sh P OUT_BYTES INPUT... -- OUTPUT...
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: floor.sh P OUT_BYTES INPUT... -- OUTPUT..." >&2
    exit 2
fi
procs=$1
out_bytes=$2
shift 2
inputs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do inputs+=("$1"); shift; done
[ $# -gt 0 ] && shift
outputs=("$@")
if [ ${#outputs[@]} -eq 0 ]; then
    echo "floor.sh: no outputs after --" >&2
    exit 2
fi

block=$((4 << 20))

# Blocks per process: the part of a file of $1 bytes, rounded up to blocks.
part_blocks() { echo $(( ($1 + procs * block - 1) / (procs * block) )); }

one_process() {
    local p=$1 f size nb
    for f in "${inputs[@]}"; do
        size=$(stat -c %s "$f")
        nb=$(part_blocks "$size")
        dd if="$f" of=/dev/null bs=$block skip=$((p * nb)) count="$nb" status=none
    done
    nb=$(part_blocks "$out_bytes")
    local start=$((p * nb * block)) len=$((nb * block))
    [ $((start + len)) -gt "$out_bytes" ] && len=$((out_bytes - start))
    [ "$len" -le 0 ] && return 0
    for f in "${outputs[@]}"; do
        dd if=/dev/zero of="$f" bs=$block seek=$((p * nb)) count="$len" \
            iflag=count_bytes conv=notrunc status=none
    done
}

rm -f "${outputs[@]}"
pids=()
for ((p = 0; p < procs; p++)); do
    one_process "$p" &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
