#!/usr/bin/env bash
# What CI runs beyond the main suite (docs/RELIABILITY.md), in about nine
# minutes on two cores:
#   1. an AddressSanitizer + UndefinedBehaviorSanitizer build running the
#      unit tests (leak detection on, except in the few that start MPI: Open
#      MPI keeps memory until exit and LeakSanitizer's tracer crashes under
#      it) and the integration tests (merge matrix, numpy check, error cases,
#      synth) plus verify/diff end to end;
#   2. valgrind on a small merge, verify and diff: no definite leak outside
#      Open MPI and HDF5 (tests/valgrind.supp), and a control program that
#      leaks on purpose must be caught with the same suppressions;
#   3. the reduced language-model example (ctest label "example",
#      examples/reasoning/run.sh --quick), which scripts/test.sh leaves out;
#   4. both libFuzzer targets (safetensors reader, config loader) for
#      $MPB_FUZZ_SECONDS each (default 30);
#   5. the C format check (scripts/check-format.sh, .clang-format): a few
#      seconds.
# Build folders: $MPB_ASAN_BUILD_DIR (build-asan), $MPB_BUILD_DIR (build),
# $MPB_FUZZ_BUILD_DIR (build-fuzz), all under the repository by default.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
MPB_EXTRA_PACKAGES="valgrind clang clang-format ${MPB_EXTRA_PACKAGES:-}" "$here/scripts/setup.sh"
jobs=$(nproc)
start=$(date +%s)
step() { echo "== ci-extra [$(($(date +%s) - start)) s]: $*"; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export UBSAN_OPTIONS=print_stacktrace=1

step "ASan + UBSan build"
asan="${MPB_ASAN_BUILD_DIR:-$here/build-asan}"
cmake -S "$here" -B "$asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPB_SANITIZE=ON >/dev/null
cmake --build "$asan" -j"$jobs" >/dev/null
# Unit tests that start MPI (their binary calls MPI_Init) run without leak checks.
read -r plain with_mpi < <(cd "$asan" && ctest --show-only=json-v1 | /usr/bin/python3 -c '
import json, subprocess, sys
plain, mpi = [], []
for t in json.load(sys.stdin)["tests"]:
    labels = [p["value"] for p in t.get("properties", []) if p["name"] == "LABELS"]
    if "unit" not in (labels[0] if labels else []):
        continue
    # Open MPI leaks at exit, so MPI tests run without leak checks: those
    # ctest starts under mpiexec (label "mpi") and those that call MPI_Init.
    undefined = subprocess.run(["nm", "-u", t["command"][0]], capture_output=True, text=True)
    uses_mpi = "mpi" in labels[0] or " MPI_Init" in undefined.stdout
    (mpi if uses_mpi else plain).append(t["name"])
print("|".join(plain) or "^$", "|".join(mpi) or "^$")')
step "sanitized unit tests"
(cd "$asan" && ctest -j"$jobs" --output-on-failure -R "^($plain)$")
(cd "$asan" && ASAN_OPTIONS=detect_leaks=0 ctest -j"$jobs" --output-on-failure -R "^($with_mpi)$")
step "sanitized integration tests"
integration='synth_[abc]|interp_np.*|linear3_np.*|unnorm_np.*|check_merges|merge_errors|synth_checks'
(cd "$asan" && ASAN_OPTIONS=detect_leaks=0 ctest -j"$jobs" --output-on-failure \
    -R "^($integration|rel_verify_diff|rel_provenance|rel_nonfinite)$")

step "valgrind"
build="${MPB_BUILD_DIR:-$here/build}"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" --target mpiblend >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bin="$build/mpiblend"
mpiexec -n 2 "$bin" synth --arch tiny --seed 1 --quiet "$work/a.h5"
mpiexec -n 2 "$bin" synth --arch tiny --seed 2 --quiet "$work/b.h5"
printf 'merge_method: interpolate\nmodels:\n  - model: a.h5\n  - model: b.h5\nparameters:\n  lambda: 0.45\n' \
    >"$work/interp.yaml"
vg=(valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
    --error-exitcode=99 --num-callers=40 --suppressions="$here/tests/valgrind.supp"
    --log-file="$work/vg.%p.log")
mpiexec -n 2 "${vg[@]}" "$bin" merge "$work/interp.yaml" --out "$work/out.h5" --quiet --slab-kib 64
mpiexec -n 2 "${vg[@]}" "$bin" verify "$work/out.h5" --config "$work/interp.yaml" >/dev/null
mpiexec -n 2 "${vg[@]}" "$bin" diff "$work/out.h5" "$work/out.h5" >/dev/null
grep -h "definitely lost:" "$work"/vg.*.log | sort | uniq -c
# The control: a leak in the program's own code must not hide behind the suppressions.
printf '#include <mpi.h>\n#include <stdlib.h>\nint main(int c, char **v) { MPI_Init(&c, &v);\n'\
'volatile char *p = malloc(64); p[0] = 1; p = NULL; MPI_Finalize(); return 0; }\n' >"$work/leak.c"
mpicc -g -O0 -o "$work/leak" "$work/leak.c"
rm -f "$work"/vg.*.log
if mpiexec -n 1 "${vg[@]}" "$work/leak" >/dev/null 2>&1; then
    echo "ci-extra: valgrind missed a deliberate leak; tests/valgrind.supp hides too much" >&2
    exit 1
fi
grep -q "definitely lost: 64 bytes in 1 blocks" "$work"/vg.*.log

step "the reduced language-model example (examples/reasoning/run.sh --quick)"
(cd "$build" && ctest --output-on-failure -L example)

fuzz_seconds="${MPB_FUZZ_SECONDS:-30}"
# A fixed seed makes CI's run a prefix of the same mutation sequence that was
# run longer by hand (scripts/fuzz.sh), so CI repeats no chance finding.
export MPB_FUZZ_FLAGS="${MPB_FUZZ_FLAGS:--seed=1}"
for target in safetensors config; do
    step "fuzz $target for $fuzz_seconds s"
    "$here/scripts/fuzz.sh" "$target" "$fuzz_seconds" >"$work/fuzz-$target.log" 2>&1 ||
        { tail -50 "$work/fuzz-$target.log"; exit 1; }
    grep -E "^Done [0-9]+ runs" "$work/fuzz-$target.log"
done
step "C format (scripts/check-format.sh)"
"$here/scripts/check-format.sh"
step "all extra checks passed"
