#!/bin/bash
# The interpolation study end to end on a real (tiny) language model:
# pretrain a Qwen3-style transformer on sums, fine-tune an "instruct" and a
# "thinking" variant from it, sweep lambda with mpiblend reading their
# Hugging Face folders, score every point by generating answers (accuracy,
# mean tokens, share closing </think>), refine between neighbours on the
# accuracy/tokens Pareto front, plot.
#   bash examples/reasoning/run.sh [--quick] [--out DIR]
# MPIBLEND=path/to/mpiblend picks a build.  --quick trains and evaluates
# less (the CI test); the plots land in DIR (default examples/reasoning/out).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$here/out
base_steps=600 tune_steps=800 questions=400
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) base_steps=150 tune_steps=250 questions=100; shift ;;
        --out) out=$2; shift 2 ;;
        *) echo "usage: run.sh [--quick] [--out DIR]" >&2; exit 2 ;;
    esac
done
bash "$here/setup.sh"
PY=/usr/bin/python3
MPIBLEND=${MPIBLEND:-$root/build/mpiblend}
[ -x "$MPIBLEND" ] || "$root/scripts/build.sh"
export OMPI_MCA_rmaps_base_oversubscribe=1
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
rm -rf "$out"
mkdir -p "$out/models"
cp "$here/study.yaml" "$out/study.yaml"
cd "$out"
start=$(date +%s)
stamp() { echo "[$(($(date +%s) - start)) s] $*"; }

stamp "pretraining the base model ($base_steps steps)"
$PY "$here/train.py" models base --steps "$base_steps"
stamp "fine-tuning instruct and thinking from it, one per core ($tune_steps steps)"
$PY "$here/train.py" models instruct --steps "$tune_steps" > instruct.log 2>&1 &
instruct=$!
$PY "$here/train.py" models thinking --steps "$tune_steps"
wait "$instruct" || { cat instruct.log; exit 1; }
tail -n 1 instruct.log

stamp "sweeping lambda = 0, 0.1, ..., 1 into Hugging Face folders"
mpirun -np 2 "$MPIBLEND" sweep study.yaml --out-dir sweep --format safetensors --quiet
evaluate() {
    "$MPIBLEND" eval sweep --cmd "$PY $here/evaluate.py {path} --questions $questions" \
        --metric acc,tokens,think --jobs 2 > /dev/null
}
stamp "evaluating every point (greedy decoding, $questions held-out sums)"
evaluate
stamp "refining between neighbours on the accuracy/tokens Pareto front"
# Three values per interval of the front (those already swept are skipped):
# when the front is just the two ends, its midpoint 0.5 is one of them.
"$MPIBLEND" refine sweep --around pareto --maximize acc --minimize tokens --points 3 \
    --out study.refine.yaml
mpirun -np 2 "$MPIBLEND" sweep study.refine.yaml --out-dir sweep --format safetensors --quiet
evaluate
"$MPIBLEND" plot sweep --x tokens --y acc --out accuracy-vs-tokens.svg
"$MPIBLEND" plot sweep --metric acc,tokens,think --out metrics-vs-lambda.svg
stamp "done"
echo "lambda, accuracy, mean tokens, share with </think>:"
$PY - sweep/manifest.json <<'PYEOF'
import json, sys
points = json.load(open(sys.argv[1]))["points"]
for p in sorted(points, key=lambda p: float(p["values"]["lambda"])):
    s = p["scores"]
    print("  %-6s %6.3f %7.2f %6.3f" % (p["values"]["lambda"], s.get("acc", float("nan")),
                                       s.get("tokens", float("nan")),
                                       s.get("think", float("nan"))))
PYEOF
ls "$out"/*.svg "$out"/*.png 2>/dev/null || true
