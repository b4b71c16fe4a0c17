#!/bin/bash
# One evaluation of one sweep point: runs OpenCompass or
# lm-evaluation-harness (vLLM or LMDeploy backend) on the point's Hugging
# Face folder with the settings of one file (configs/eval/*.env: HARNESS,
# BACKEND, TASKS, SAMPLES, TEMPERATURE, TOP_P, MAX_NEW_TOKENS, GPUS, SEED),
# then prints the JSON `mpiblend eval` reads (jobs/eval/summarize.py):
#   {"acc": ..., "tokens": ..., "think": ..., "samples": ..., "TASK": {...}}
# The harness's own output and logs go to WORK (default MODEL_DIR.eval) and
# to stderr.
#   harness.sh MODEL_DIR SETTINGS.env [WORK]
# Used by jobs/pbs/eval-harness.pbs and jobs/slurm/eval-harness.sbatch as
#   mpiblend eval DIR --point N --metric acc,tokens,think \
#       --cmd 'bash jobs/eval/harness.sh {path} configs/eval/aime25.env'
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
model=${1:?usage: harness.sh MODEL_DIR SETTINGS.env [WORK]}
settings=${2:?usage: harness.sh MODEL_DIR SETTINGS.env [WORK]}
work=${3:-$model.eval}
[ -d "$model" ] || { echo "harness.sh: no model folder '$model'" >&2; exit 2; }
# shellcheck disable=SC1090
. "$settings"
for v in HARNESS BACKEND TASKS SAMPLES TEMPERATURE TOP_P MAX_NEW_TOKENS; do
    [ -n "${!v:-}" ] || { echo "harness.sh: $settings does not set $v" >&2; exit 2; }
done
GPUS=${GPUS:-1} SEED=${SEED:-0}
PYTHON=${PYTHON:-python3}
rm -rf "$work"
mkdir -p "$work"
case "$HARNESS" in
lm-eval)
    # lm-evaluation-harness runs vLLM in-process; the samples per problem
    # come from the task's YAML (repeats:), summarize.py checks SAMPLES.
    [ "$BACKEND" = vllm ] || {
        echo "harness.sh: lm-evaluation-harness has no $BACKEND backend; use BACKEND=vllm" \
             "or HARNESS=opencompass" >&2; exit 2; }
    lm_eval --model vllm \
        --model_args "pretrained=$model,tensor_parallel_size=$GPUS,dtype=auto,seed=$SEED" \
        --tasks "$TASKS" --apply_chat_template --batch_size auto --seed "$SEED" \
        --gen_kwargs "do_sample=True,temperature=$TEMPERATURE,top_p=$TOP_P,max_gen_toks=$MAX_NEW_TOKENS" \
        --output_path "$work" --log_samples >&2 ;;
opencompass)
    case "$BACKEND" in lmdeploy|vllm) ;; *)
        echo "harness.sh: BACKEND must be lmdeploy or vllm, not '$BACKEND'" >&2; exit 2 ;;
    esac
    # shellcheck disable=SC2086  # TASKS: one dataset name per word
    opencompass --datasets ${TASKS//,/ } --hf-type chat --hf-path "$model" \
        --accelerator "$BACKEND" --hf-num-gpus "$GPUS" --max-out-len "$MAX_NEW_TOKENS" \
        --generation-kwargs do_sample=True temperature="$TEMPERATURE" top_p="$TOP_P" \
        --work-dir "$work" --dump-eval-details >&2 ;;
*)
    echo "harness.sh: HARNESS must be opencompass or lm-eval, not '$HARNESS'" >&2; exit 2 ;;
esac
exec "$PYTHON" "$here/summarize.py" "$HARNESS" "$work" --model "$model" --samples "$SAMPLES"
