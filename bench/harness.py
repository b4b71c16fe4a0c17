"""mpiblend's benchmark: the I/O floor, mpiblend and the Python peers, timed
in interleaved rounds on the same synthetic files; prints Markdown tables.

Run it through bench/run.sh, which installs the Python packages and builds
mpiblend.  Progress goes to stderr, the tables to stdout; every repetition is
saved as JSON in the work folder (results-SUITE.json).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys

import bench_suites as S
import bench_table as T
from bench_measure import run_rounds



def default_io(mpiblend):
    """mpiblend's default --io, as its help states it."""
    r = subprocess.run([mpiblend, "merge", "--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    m = re.search(r"--io\s.*?default (collective|independent)", r.stdout, re.S)
    return m.group(1) if m else "independent"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mpiblend", required=True, help="path of the mpiblend binary")
    ap.add_argument("--work", required=True, help="folder for the synthetic checkpoints")
    ap.add_argument("--kernel-bench", help="path of mpb_kernel_bench, when built")
    ap.add_argument("--quick", action="store_true", help="3 repetitions instead of 5")
    ap.add_argument("--reps", type=int, help="repetitions per variant (default 5, --quick 3)")
    ap.add_argument("--suites", default="main,moe,sweep,kernel",
                    help="comma-separated: main, moe, sweep (0.6b and moe), kernel, tune, big, "
                         "collective (both transfer modes, 1-8 ranks, shared memory and TCP), "
                         "methods (every merge method against its floor, torch TIES/DARE "
                         "peers)")
    ap.add_argument("--keep", action="store_true", help="keep the synthetic inputs")
    ap.add_argument("--command", default="", help="the command line to print")
    ap.add_argument("--main-arch", default="qwen3-0.6b",
                    help="architecture of the main and tune suites (smaller ones for testing)")
    return ap.parse_args()


def machine_line():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    mpi = subprocess.run(["mpirun", "--version"], stdout=subprocess.PIPE, text=True)
    mpi_version = mpi.stdout.splitlines()[0] if mpi.stdout else "mpirun ?"
    return (f"{datetime.date.today().isoformat()}, {platform.node()}: {os.cpu_count()} cores "
            f"({cpu}), {mem_gib:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"{mpi_version}")


def torch_available():
    r = subprocess.run([S.PYTHON, "-c", "import torch"], stderr=subprocess.DEVNULL)
    return r.returncode == 0


def verifier(ctx, results):
    """After each warm-up run: the first mpiblend output becomes the reference,
    every later merged output is compared with it bit for bit (the middle
    output of variants that write several, lambda = 0.5 in a sweep)."""
    ref = ctx.path("ref.h5")

    def check(v):
        if v.kind in ("floor", "launch") or not v.outputs:
            return
        out = v.outputs[len(v.outputs) // 2]
        if not os.path.exists(ref):
            if v.kind == "mpiblend":
                os.rename(out, ref)
            return
        r = subprocess.run([S.PYTHON, os.path.join(S.BENCH_DIR, "verify.py"), ref, out],
                           stdout=subprocess.PIPE, text=True)
        results.append((f"{v.name} (P={v.procs})", r.stdout.strip()))
    return check


def run_suite(name, arch, ctx, make, reps, targets, log, warmup=True, inputs=("A.h5", "B.h5"),
              table=T.table, check_outputs=True):
    """check_outputs: compare every output with the first mpiblend one (off
    for suites whose variants compute different things)."""
    S.synthesize(ctx, arch, log, inputs)
    S.warm_cache(ctx, inputs)
    variants = make(ctx)
    checks = []
    load_before = os.getloadavg()[0]
    run_rounds(variants, reps, log, warmup=warmup,
               after_warmup=verifier(ctx, checks) if check_outputs else None)
    size_gb = os.path.getsize(ctx.path("A.h5")) / 1e9
    what = "two" if len(inputs) == 2 else f"{len(inputs)}"
    title = f"{name}: {what} {arch} checkpoints ({size_gb:.2f} GB each), medians of {reps}"
    print(table(variants, title))
    print()
    for line in targets(variants):
        print(line)
    same = [who for who, text in checks if ": identical to " in text]
    if same:
        print(f"- output check: bit-identical to the first mpiblend output: {', '.join(same)}")
    for who, text in checks:
        if who not in same:
            print(f"- output check: {who}: {text}")
    print(f"- load average (1 min) before / after the suite: {load_before:.2f} / "
          f"{os.getloadavg()[0]:.2f} (2 cores; above 2, others were running)")
    for v in variants:
        if v.own_peak_mib:
            print(f"- {v.name}, P={v.procs}: mpiblend's own summary peak_rss_max_rank "
                  f"{max(v.own_peak_mib):.0f} MiB")
    print(flush=True)
    with open(ctx.path(f"results-{name}.json"), "w") as f:
        json.dump([{"name": v.name, "procs": v.procs, "argv": v.argv, "walls": v.walls,
                    "rss_mib": v.rss_mib, "cpu_s": v.cpu_s, "own_peak_mib": v.own_peak_mib,
                    "failed": v.failed} for v in variants], f, indent=1)
    if os.path.exists(ctx.path("ref.h5")):
        os.unlink(ctx.path("ref.h5"))


def run_kernel(path):
    if not path or not os.path.exists(path):
        print("kernel: mpb_kernel_bench is not built\n")
        return
    r = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print("### blend kernels alone (mpb_kernel_bench)\n\n```\n" + r.stdout.strip() + "\n```\n")
    picked = re.search(r"dispatch picks (\S+)", r.stdout)
    rate = picked and re.search(rf"^bf16\s+{re.escape(picked.group(1))}\s+([\d.]+) G",
                                r.stdout, re.M)
    if rate:
        g = float(rate.group(1))
        print(f"- [{'met' if g >= 4 else 'NOT met'}] bf16 two-input interpolation, "
              f"{picked.group(1)}: {g:.2f} G elements/s on one core (target ≥ 4)\n")
    masks = picked and re.search(rf"^mask {re.escape(picked.group(1))}\s+([\d.]+) G elements/s "
                                 r"\(([\d.]+) per CPU second\)", r.stdout, re.M)
    if masks:
        wall, cpu = float(masks.group(1)), float(masks.group(2))
        print(f"- [{'met' if cpu >= 1 else 'NOT met'}] DARE keep masks, {picked.group(1)}: "
              f"{cpu:.2f} G elements/s per CPU second on one core ({wall:.2f} by the wall "
              f"clock; target ≥ 1)\n")


def main():
    args = parse_args()
    reps = args.reps or (3 if args.quick else 5)
    suites = args.suites.split(",")
    log = sys.stderr
    torch_ok = torch_available() and not os.environ.get("MPB_BENCH_NO_TORCH")
    io = default_io(args.mpiblend)
    print(f"## mpiblend benchmark\n\n{machine_line()}\n")
    print(f"command: {args.command or ' '.join(sys.argv)}\n")
    if not torch_ok:
        print("torch peer: skipped (python3-torch is not installed)\n")

    used = set()

    def ctx_for(sub):
        used.add(os.path.join(args.work, sub))
        return S.Context(args.mpiblend, os.path.join(args.work, sub), torch_ok=torch_ok)

    if "main" in suites:
        run_suite("main", args.main_arch, ctx_for(args.main_arch), S.main_suite, reps,
                  lambda vs: T.main_targets(vs, io), log)
    if "tune" in suites:
        run_suite("tune", args.main_arch, ctx_for(args.main_arch), S.tune_suite, reps,
                  T.floor_targets, log)
    if "moe" in suites:
        run_suite("moe", "qwen3-moe-mini", ctx_for("qwen3-moe-mini"), S.moe_suite, reps,
                  T.moe_targets, log)
    if "collective" in suites:
        for arch in ("qwen3-moe-mini", args.main_arch):
            moe = "moe" in arch
            run_suite(f"collective-{arch}", arch, ctx_for(arch), S.collective_suite, reps,
                      lambda vs, moe=moe: T.collective_targets(vs, moe), log)
    if "sweep" in suites:
        for name, arch in (("sweep", args.main_arch), ("sweep-moe", "qwen3-moe-mini")):
            ctx = ctx_for(arch)
            if S.sweep_available(ctx):
                run_suite(name, arch, ctx, S.sweep_suite, reps, T.sweep_targets, log)
            else:
                print("sweep: not available (`mpiblend sweep --help` does not exit 0)\n")
                break
    if "methods" in suites:
        run_suite("methods", args.main_arch, ctx_for(args.main_arch), S.methods_suite, reps,
                  T.methods_targets, log, inputs=S.METHODS_INPUTS, table=T.methods_table,
                  check_outputs=False)
    if "big" in suites:
        ctx = ctx_for("qwen3-4b")
        free = shutil.disk_usage(args.work).free
        if free < 40e9:
            print(f"big: skipped, {free / 1e9:.0f} GB free in {args.work}, 40 GB needed\n")
        else:
            try:
                run_suite("big", "qwen3-4b", ctx, S.big_suite, min(reps, 3),
                          lambda vs: T.floor_targets(vs) + T.peak_targets(vs), log,
                          warmup=False)
            finally:  # 24 GB of checkpoints are not kept, even with --keep
                shutil.rmtree(ctx.work, ignore_errors=True)
    if "kernel" in suites:
        run_kernel(args.kernel_bench)
    if not args.keep:
        # Only the folders this run made: --work may be shared with other files.
        for folder in used:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
