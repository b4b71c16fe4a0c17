#!/usr/bin/env bash
# The built-in example: build, synthesize two small Qwen3-shaped checkpoints,
# sweep lambda over the interpolation paper's 9 points with 2 ranks (the
# inputs are read once for all nine outputs), and print the manifest.
#   scripts/demo.sh [ARCH]     (default tiny; qwen3-0.6b is 1.2 GB per file)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
arch="${1:-tiny}"
"$here/scripts/build.sh"
bin="${MPB_BUILD_DIR:-$here/build}/mpiblend"
run="$here/scripts/mpirun.sh"
out="${MPB_DEMO_DIR:-$here/demo-output}/$arch"
mkdir -p "$out"
echo "== synthesizing two '$arch' checkpoints (bf16) in $out"
"$run" -np 2 "$bin" synth --arch "$arch" --seed 1 --force --quiet "$out/instruct.h5"
"$run" -np 2 "$bin" synth --arch "$arch" --seed 2 --force --quiet "$out/thinking.h5"
cat > "$out/study.yaml" <<'YAML'
# theta = (1 - lambda) * Instruct + lambda * Thinking, the interpolation study's form
merge_method: interpolate
models:
  - model: instruct.h5     # lambda = 0
  - model: thinking.h5     # lambda = 1
parameters:
  lambda: 0.5              # overridden by the sweep below
sweep:
  output: mi-{lambda}.h5
  parameters:
    lambda: [0, 0.2, 0.4, 0.45, 0.5, 0.55, 0.6, 0.8, 1.0]
YAML
echo "== sweeping lambda over 9 points with 2 ranks"
"$run" -np 2 "$bin" sweep "$out/study.yaml" --out-dir "$out/sweep" --force
echo "== done: 9 blended checkpoints in $out/sweep; manifest:"
awk -F, '{ printf "%-8s %-8s %-16s %-10s %-17s %s\n", $1, $2, $3, $4, $5, $6 }' "$out/sweep/manifest.csv"
