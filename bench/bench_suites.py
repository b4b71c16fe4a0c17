"""The variants of each suite: what is timed, with which command.

A suite works on one pair of synthetic checkpoints (A = seed 1, B = seed 2)
in its own folder and writes every output to the same path, removed before
each run.  The interpolation is lambda = 0.5 throughout.
"""
import os
import re
import subprocess
from dataclasses import dataclass

from bench_measure import Variant

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
# Every MPI program here -- mpiblend and the mpi4py peer alike -- starts the
# way the README tells users to on one machine.
LAUNCHER = os.path.join(os.path.dirname(BENCH_DIR), "scripts", "mpirun.sh")
# Plain mpirun with Open MPI's own transport choice (UCX probed first), for
# the tuning rows; run.sh has already allowed root and oversubscription.
DEFAULT_PML = ("(plain mpirun)",)
PYTHON = "/usr/bin/python3"
LAMBDA = 0.5
# The paper's grid, spelled as mpiblend names sweep outputs (shortest decimal).
SWEEP_LAMBDAS = ["0", "0.2", "0.4", "0.45", "0.5", "0.55", "0.6", "0.8", "1"]


@dataclass
class Context:
    mpiblend: str           # path of the mpiblend binary
    work: str               # folder for this suite's files
    mca: tuple = ()         # extra mpirun arguments for every MPI launch
    torch_ok: bool = False

    def path(self, name):
        return os.path.join(self.work, name)

    def mpirun(self, procs, mca=None):
        if mca == DEFAULT_PML:
            return ["mpirun", "-np", str(procs), "--mca", "rmaps_base_oversubscribe", "1"]
        return [LAUNCHER, "-np", str(procs)] + list(self.mca if mca is None else mca)


def write_config(ctx, name, lam, a="A.h5", b="B.h5"):
    path = ctx.path(name)
    with open(path, "w") as f:
        f.write(f"merge_method: interpolate\nmodels:\n  - model: {a}\n  - model: {b}\n"
                f"parameters:\n  lambda: {lam}\n")
    return path


# Synthetic inputs and their seeds; base.h5 only for the methods suite.
INPUT_SEEDS = {"A.h5": 1, "B.h5": 2, "base.h5": 3}


def synthesize(ctx, arch, log, names=("A.h5", "B.h5")):
    """names (A.h5 and B.h5 by default) of arch in ctx.work, reused when a
    previous --keep run left them (the stamp names the architecture)."""
    os.makedirs(ctx.work, exist_ok=True)
    stamp = ctx.path("inputs.stamp")
    if not (os.path.exists(stamp) and open(stamp).read() == arch):
        for n in INPUT_SEEDS:  # inputs of another architecture, or of unknown origin
            if os.path.exists(ctx.path(n)):
                os.unlink(ctx.path(n))
    names = [n for n in names if not os.path.exists(ctx.path(n))]
    if not names:
        print(f"reusing {arch} inputs in {ctx.work}", file=log, flush=True)
        return
    for name in names:
        seed = INPUT_SEEDS[name]
        print(f"synthesizing {arch} seed {seed} -> {ctx.path(name)}", file=log, flush=True)
        subprocess.run(ctx.mpirun(2) + [ctx.mpiblend, "synth", "--arch", arch, "--seed",
                                       str(seed), "--force", "--quiet", ctx.path(name)],
                       check=True)
    with open(stamp, "w") as f:
        f.write(arch)


def warm_cache(ctx, names=("A.h5", "B.h5")):
    for n in names:
        with open(ctx.path(n), "rb") as f:
            while f.read(64 << 20):
                pass


def floor(ctx, procs, outputs=None, name="floor (dd)", inputs=("A.h5", "B.h5")):
    outputs = outputs or [ctx.path("out.h5")]
    size = os.path.getsize(ctx.path("A.h5"))
    argv = ["bash", os.path.join(BENCH_DIR, "floor.sh"), str(procs), str(size),
            *[ctx.path(n) for n in inputs], "--"] + outputs
    return Variant(name, procs, argv, outputs, kind="floor",
                   input_bytes=sum(os.path.getsize(ctx.path(n)) for n in inputs))


def merge(ctx, procs, io="collective", extra=(), mca=None, name=None, config="cfg.yaml"):
    out = ctx.path("out.h5")
    argv = ctx.mpirun(procs, mca) + [ctx.mpiblend, "merge", ctx.path(config), "--out", out,
                                     "--force", "--io", io, "--progress-secs", "3600",
                                     *extra]
    return Variant(name or f"mpiblend merge --io {io}", procs, argv, [out], kind="mpiblend",
                   launch_group=" ".join(mca or ()))


def peer(ctx, which, procs=1):
    out = ctx.path("out.h5")
    script = os.path.join(BENCH_DIR, f"peer_{which}.py")
    args = [PYTHON, script, ctx.path("A.h5"), ctx.path("B.h5"), out, "--lam", str(LAMBDA)]
    argv = ctx.mpirun(procs) + args if which == "mpi4py" else args
    label = {"serial": "peer: serial h5py+numpy", "mpi4py": "peer: mpi4py+h5py (MPI)",
             "torch": "peer: torch state dicts (bf16)"}[which]
    return Variant(label, procs, argv, [out], kind=which)


def launch(ctx, procs=2, mca=()):
    """The fixed cost of every MPI run: mpirun, MPI_Init, MPI_Finalize."""
    name = "mpiblend --help (launch, MPI_Init)" + (f", {' '.join(mca)}" if mca else "")
    return Variant(name, procs, ctx.mpirun(procs, mca) + [ctx.mpiblend, "--help"],
                   kind="launch", launch_group=" ".join(mca))


def main_suite(ctx):
    write_config(ctx, "cfg.yaml", LAMBDA)
    vs = [launch(ctx)]
    for p in (1, 2):
        vs.append(floor(ctx, p))
    for io in ("collective", "independent"):
        for p in (1, 2):
            vs.append(merge(ctx, p, io))
    vs.append(peer(ctx, "serial"))
    for p in (1, 2):
        vs.append(peer(ctx, "mpi4py", p))
    if ctx.torch_ok:
        vs.append(peer(ctx, "torch"))
    return vs


def moe_suite(ctx):
    write_config(ctx, "cfg.yaml", LAMBDA)
    vs = [floor(ctx, p) for p in (1, 2)]
    for io in ("collective", "independent"):
        for p in (1, 2):
            vs.append(merge(ctx, p, io))
    vs.append(peer(ctx, "serial"))
    vs.append(peer(ctx, "mpi4py", 2))
    return vs


TCP_ONLY = ("--mca", "btl", "self,tcp")


def collective_rounds(ctx, procs, config="cfg.yaml"):
    """The collective rounds mpiblend's dry run states for a merge at procs."""
    r = subprocess.run(ctx.mpirun(procs) + [ctx.mpiblend, "merge", ctx.path(config), "--out",
                                            ctx.path("dry.h5"), "--io", "collective",
                                            "--dry-run"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    m = re.search(r"collective transfers in (\d+) rounds?", r.stdout)
    return int(m.group(1)) if m else None


def collective_suite(ctx):
    """Both transfer modes at 1, 2, 4 and 8 ranks (8 oversubscribes 2 cores),
    over shared memory and over TCP only, the collective rounds from the dry
    run in the variant's name.  From 3 ranks on, also the collective rounds
    through the MPI-IO library's collective call (--aggregate on), which the
    default skips when every rank shares one node, as here."""
    write_config(ctx, "cfg.yaml", LAMBDA)
    vs = []
    for p in (1, 2, 4, 8):
        rounds = collective_rounds(ctx, p)
        for transport, mca in (("shared memory", None), ("TCP only", TCP_ONLY)):
            if p == 1 and mca is not None:
                continue
            where = "" if p == 1 else f", {transport}"
            for io in ("independent", "collective"):
                plural = "" if rounds == 1 else "s"
                what = f" ({rounds} round{plural})" if io == "collective" else ""
                vs.append(merge(ctx, p, io, mca=mca,
                                name=f"mpiblend merge --io {io}{what}{where}"))
            if p >= 3:
                vs.append(merge(ctx, p, "collective", extra=("--aggregate", "on"), mca=mca,
                                name=f"mpiblend merge --io collective --aggregate on{where}"))
    return vs


def big_suite(ctx):
    write_config(ctx, "cfg.yaml", LAMBDA)
    return [floor(ctx, 1), floor(ctx, 2), merge(ctx, 1, "independent"),
            merge(ctx, 2, "independent"), merge(ctx, 2, "collective")]


def default_slab_mib(ctx):
    """mpiblend's default --slab-mib, as its help states it."""
    r = subprocess.run([ctx.mpiblend, "merge", "--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    m = re.search(r"--slab-mib.*?\(default (\d+)\)", r.stdout, re.S)
    return int(m.group(1)) if m else None


def tune_suite(ctx):
    """Every knob at 2 ranks, one at a time from the defaults."""
    write_config(ctx, "cfg.yaml", LAMBDA)
    vs = [floor(ctx, 2), launch(ctx), launch(ctx, mca=DEFAULT_PML)]
    for io in ("independent", "collective"):
        vs.append(merge(ctx, 2, io, name=f"{io}, defaults (slab {default_slab_mib(ctx)} MiB)"))
        for slab in sorted({1, 4, 8, 16, 32, 64, 128} - {default_slab_mib(ctx)}):
            vs.append(merge(ctx, 2, io, ["--slab-mib", str(slab)],
                            name=f"{io}, --slab-mib {slab}"))
        vs.append(merge(ctx, 2, io, ["--align-kib", "0"], name=f"{io}, --align-kib 0"))
        vs.append(merge(ctx, 2, io, mca=("--mca", "io", "romio321"),
                        name=f"{io}, ROMIO (--mca io romio321)"))
        vs.append(merge(ctx, 2, io, mca=DEFAULT_PML,
                        name=f"{io}, Open MPI's default PML (UCX probed first)"))
    return vs


def sweep_available(ctx):
    r = subprocess.run([ctx.mpiblend, "sweep", "--help"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return r.returncode == 0


def sweep_outputs(ctx):
    return [ctx.path(f"sw-{lam}.h5") for lam in SWEEP_LAMBDAS]


def sweep_suite(ctx, procs=2):
    """The paper's 9-point lambda grid: one `mpiblend sweep` (inputs read
    once) against 9 separate merges, and the floor of reading the inputs once
    and writing 9 outputs."""
    grid = ", ".join(SWEEP_LAMBDAS)
    path = ctx.path("sweep.yaml")
    with open(path, "w") as f:
        f.write("merge_method: interpolate\nmodels:\n  - model: A.h5\n  - model: B.h5\n"
                f"parameters:\n  lambda: {LAMBDA}\n"
                f"sweep:\n  output: sw-{{lambda}}.h5\n  parameters:\n    lambda: [{grid}]\n")
    outs = sweep_outputs(ctx)
    sweep = Variant("mpiblend sweep (9 points)", procs,
                    ctx.mpirun(procs) + [ctx.mpiblend, "sweep", path, "--out-dir", ctx.work,
                                         "--force", "--progress-secs", "3600"],
                    outs, kind="mpiblend",
                    scratch=[ctx.path("manifest.csv"), ctx.path("manifest.json")])
    merges = []
    for lam, out in zip(SWEEP_LAMBDAS, outs):
        cfg = write_config(ctx, f"cfg-{lam}.yaml", lam)
        merges.append(" ".join(ctx.mpirun(procs) + [ctx.mpiblend, "merge", cfg, "--out", out,
                                                    "--force", "--quiet"]))
    separate = Variant("9 separate mpiblend merges", procs,
                       ["bash", "-c", " && ".join(merges)], outs, kind="merges")
    return [floor(ctx, procs, outs, name="floor (dd): read once, write 9"), sweep, separate]


# The methods suite: each method on A and B (and base.h5 where it needs a
# base), with the parameters of the interpolation study's baselines where it
# has them (TIES density 0.2, task arithmetic scale 0.7).
METHOD_CONFIGS = {
    "interpolate": ("", "", "parameters:\n  lambda: 0.5\n"),
    "linear": ("", "{weight: 0.5}", ""),
    "slerp": ("A.h5", "", "parameters:\n  t: 0.5\n"),
    "task_arithmetic": ("base.h5", "{weight: 0.7}", ""),
    "model_stock": ("base.h5", "", ""),
    "ties": ("base.h5", "{weight: 0.5, density: 0.2}", ""),
    "breadcrumbs": ("base.h5", "{weight: 0.5, density: 0.3}", ""),
    "dare_ties": ("base.h5", "{weight: 0.5, density: 0.3}", ""),
    "dare_linear": ("base.h5", "{weight: 0.5, density: 0.3}", ""),
    "ram": ("base.h5", "", ""),
}
# The torch peers, as (method, density): the same files and parameters.
# TIES sorts every tensor (minutes on qwen3-0.6b), so the peers run in the
# first round only.
TORCH_PEERS = (("ties", 0.2), ("dare_ties", 0.3))
TORCH_PEER_RUNS = 1
METHODS_INPUTS = ("base.h5", "A.h5", "B.h5")


def write_method_config(ctx, method):
    base, params, tail = METHOD_CONFIGS[method]
    text = f"merge_method: {method}\n"
    if base:
        text += f"base_model: {base}\n"
    text += "models:\n"
    for m in ("A.h5", "B.h5"):
        text += f"  - model: {m}\n" + (f"    parameters: {params}\n" if params else "")
    path = ctx.path(f"cfg-{method}.yaml")
    with open(path, "w") as f:
        f.write(text + tail)
    return path, ("base.h5", "A.h5", "B.h5") if base == "base.h5" else ("A.h5", "B.h5")


TIES_DENSITIES = ("0.1", "0.2", "0.3", "0.5", "0.7")


def ties_sweep_variants(ctx, procs):
    """A TIES density grid of 5 points: one `mpiblend sweep` (inputs read and
    held once for every point) against 5 separate merges."""
    head = ("merge_method: ties\nbase_model: base.h5\nmodels:\n"
            "  - model: A.h5\n    parameters: {weight: 0.5, density: %s}\n"
            "  - model: B.h5\n    parameters: {weight: 0.5, density: %s}\n")
    path = ctx.path("ties-sweep.yaml")
    with open(path, "w") as f:
        f.write(head % ("0.2", "0.2") + "sweep:\n  output: ties-{d}.h5\n  parameters:\n"
                "    models[0].density: {values: [%s], name: d}\n" % ", ".join(TIES_DENSITIES))
    outs = [ctx.path(f"ties-{d}.h5") for d in TIES_DENSITIES]
    inputs = sum(os.path.getsize(ctx.path(n)) for n in METHODS_INPUTS)
    sweep = Variant("mpiblend sweep: ties, 5 densities", procs,
                    ctx.mpirun(procs) + [ctx.mpiblend, "sweep", path, "--out-dir", ctx.work,
                                         "--force", "--progress-secs", "3600"],
                    outs, kind="mpiblend", baseline="mpiblend ties", input_bytes=inputs,
                    scratch=[ctx.path("manifest.csv"), ctx.path("manifest.json")])
    merges = []
    for d, out in zip(TIES_DENSITIES, outs):
        cfg = ctx.path(f"cfg-ties-{d}.yaml")
        with open(cfg, "w") as f:
            f.write(head % (d, "0.2"))
        merges.append(" ".join(ctx.mpirun(procs) + [ctx.mpiblend, "merge", cfg, "--out", out,
                                                    "--force", "--quiet"]))
    separate = Variant("5 separate ties merges", procs, ["bash", "-c", " && ".join(merges)],
                       outs, kind="merges", baseline="mpiblend ties", input_bytes=inputs)
    return [sweep, separate]


def methods_suite(ctx, procs=2):
    """Every method at 2 ranks against its own floor (the inputs it reads,
    read once, and one output written, with dd), and the torch peers of
    mergekit's TIES and DARE."""
    floors = {}
    vs = []
    for inputs in (("A.h5", "B.h5"), METHODS_INPUTS):
        f = floor(ctx, procs, name=f"floor (dd), {len(inputs)} inputs", inputs=inputs)
        floors[inputs] = f.name
        vs.append(f)
    for method in METHOD_CONFIGS:
        path, inputs = write_method_config(ctx, method)
        v = merge(ctx, procs, "independent", name=f"mpiblend {method}",
                  config=os.path.basename(path))
        v.baseline = floors[inputs]
        v.input_bytes = sum(os.path.getsize(ctx.path(n)) for n in inputs)
        vs.append(v)
    vs += ties_sweep_variants(ctx, procs)
    if ctx.torch_ok:
        out = ctx.path("out.h5")
        for method, density in TORCH_PEERS:
            argv = [PYTHON, os.path.join(BENCH_DIR, "peer_mergekit_torch.py"), method,
                    *[ctx.path(n) for n in METHODS_INPUTS], out, "--weight", "0.5",
                    "--density", str(density)]
            vs.append(Variant(f"peer: torch, mergekit's {method}", 1, argv, [out],
                              kind="torch-method", baseline=f"mpiblend {method}",
                              input_bytes=sum(os.path.getsize(ctx.path(n))
                                              for n in METHODS_INPUTS),
                              warm_up=False, max_runs=TORCH_PEER_RUNS))
    return vs
