#!/bin/sh
# Usage: scripts/fuzz.sh TARGET [SECONDS]
#
# Builds the libFuzzer target TARGET ("safetensors" or "config", with or
# without the fuzz_ prefix) with clang and -fsanitize=fuzzer,address,undefined,
# then runs it for
# SECONDS (default 60).  The build goes to $MPB_FUZZ_BUILD_DIR (default
# <repo>/build-fuzz); the growing corpus and any crash inputs stay under
# <build>/fuzz-runs/TARGET/ so a later run resumes where this one stopped.
# Extra libFuzzer flags may be passed in $MPB_FUZZ_FLAGS (e.g. "-jobs=4").
set -eu

target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS]}
seconds=${2:-60}
case $target in
    fuzz_*) ;;
    *) target=fuzz_$target ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
build=${MPB_FUZZ_BUILD_DIR:-$root/build-fuzz}
testdata=${MPB_SHARED_TESTDATA:-$root/../shared/testdata}

cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DMPB_FUZZ=ON >/dev/null
cmake --build "$build" --target "$target" -j "$(nproc)"

work=$build/fuzz-runs/$target
mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts"

if [ "$target" = fuzz_safetensors ]; then
    # Small real files as seeds (the big ones only slow mutation down).
    if [ -d "$testdata/safetensors" ]; then
        find "$testdata/safetensors" -type f \( -name '*.safetensors' -o -name '*.json' \) \
            -size -16k -exec cp {} "$work/seeds/" \;
    fi
    cat >"$work/dict" <<'DICT'
"\"dtype\""
"\"shape\""
"\"data_offsets\""
"\"__metadata__\""
"\"weight_map\""
"\"metadata\""
"\"total_size\""
"\"BOOL\""
"\"U8\""
"\"I8\""
"\"I16\""
"\"U16\""
"\"F16\""
"\"BF16\""
"\"I32\""
"\"U32\""
"\"F32\""
"\"F64\""
"\"I64\""
"\"U64\""
"\"F8_E4M3\""
"\"F8_E5M2\""
"\"F8_E8M0\""
"\"C64\""
"null"
"[0,"
"]}"
"\\u0000"
"\xff"
DICT
    dict=-dict=$work/dict
elif [ "$target" = fuzz_config ]; then
    # The study's configs and the documented examples as seeds.
    find "$root/configs" "$root/examples" -type f \( -name '*.yaml' -o -name '*.yml' \) \
        -size -16k -exec cp {} "$work/seeds/" \; 2>/dev/null || true
    printf 'merge_method: linear\nmodels:\n  - model: a.h5\n    parameters: {weight: [0.2, 0.8]}\n  - model: b.h5\n    parameters:\n      weight:\n        - filter: mlp\n          value: 0.7\n        - value: 0.3\nout_dtype: bfloat16\n' >"$work/seeds/builtin.yaml"
    cat >"$work/dict" <<'DICT'
"merge_method"
"models"
"model"
"base_model"
"parameters"
"weight"
"density"
"lambda"
"normalize"
"rescale"
"gamma"
"epsilon"
"filter"
"value"
"t"
"dtype"
"out_dtype"
"layer_range"
"keep_outside"
"sweep"
"linear"
"slerp"
"ties"
"dare_ties"
"task_arithmetic"
"breadcrumbs"
"model_stock"
"passthrough"
"interpolate"
"bfloat16"
"float16"
": "
"- "
"[0, 1]"
"{"
"&a"
"*a"
"<<: "
"!!float"
DICT
    dict=-dict=$work/dict
else
    dict=
fi

# shellcheck disable=SC2086  # MPB_FUZZ_FLAGS and dict are word lists on purpose
exec "$build/fuzz/$target" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" $dict ${MPB_FUZZ_FLAGS:-} "$work/corpus" "$work/seeds"
