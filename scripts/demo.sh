#!/usr/bin/env bash
# The built-in example: synthesize two small Qwen3-shaped checkpoints,
# blend them with 2 ranks, and say what was done and where the output is.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/build.sh"
bin="${MPB_BUILD_DIR:-$here/build}/mpiblend"
run="$here/scripts/mpirun.sh"
out="${MPB_DEMO_DIR:-$here/demo-output}"
mkdir -p "$out"
echo "== synthesizing two 'tiny' Qwen3-shaped checkpoints (bf16) in $out"
"$run" -np 2 "$bin" synth --arch tiny --seed 1 --force --quiet "$out/instruct.h5"
"$run" -np 2 "$bin" synth --arch tiny --seed 2 --force --quiet "$out/thinking.h5"
cat > "$out/mi-0.45.yaml" <<'YAML'
# theta = (1 - lambda) * Instruct + lambda * Thinking, the interpolation study's form
merge_method: interpolate
models:
  - model: instruct.h5
  - model: thinking.h5
parameters:
  lambda: 0.45
YAML
echo "== merging with 2 ranks: lambda = 0.45"
"$run" -np 2 "$bin" merge "$out/mi-0.45.yaml" --out "$out/mi-0.45.h5" --force
echo "== done: $out/mi-0.45.h5 holds (1 - 0.45) * instruct + 0.45 * thinking, every tensor"
h5ls "$out/mi-0.45.h5" | head -5
echo "   ... ($(h5ls "$out/mi-0.45.h5" | wc -l) tensors)"
