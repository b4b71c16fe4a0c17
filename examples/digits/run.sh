#!/bin/bash
# The interpolation curve in miniature, end to end: train two digit
# classifiers from one initialization, sweep lambda with 2 ranks, evaluate
# every point on both tasks, refine around the best mixed-task accuracy, plot.
#   bash examples/digits/run.sh            (MPIBLEND=path/to/mpiblend to pick a build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"
bash setup.sh
PY=/usr/bin/python3
MPIBLEND=${MPIBLEND:-$root/build/mpiblend}
[ -x "$MPIBLEND" ] || "$root/scripts/build.sh"
export OMPI_MCA_rmaps_base_oversubscribe=1
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
rm -rf out study.refine.yaml

$PY train.py
mpirun -np 2 "$MPIBLEND" sweep study.yaml --out-dir out --quiet
evaluate() {
    for metric in task_a task_b all; do
        "$MPIBLEND" eval out --cmd "$PY evaluate.py {path}" --metric $metric \
            --json-key $metric --jobs 2 > /dev/null
    done
}
evaluate
"$MPIBLEND" refine out --metric all --around best --points 2 --out study.refine.yaml
mpirun -np 2 "$MPIBLEND" sweep study.refine.yaml --out-dir out --quiet
evaluate
"$MPIBLEND" plot out --out out/accuracy.svg
$PY plot.py out
echo "accuracy on all ten digits against lambda:"
grep ',all,' out/results.csv | sort -t, -k2,2g | cut -d, -f2,5 | column -s, -t
