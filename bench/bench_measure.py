"""Timing: runs variants in interleaved rounds and keeps every repetition.

Each timed run is wrapped in /usr/bin/time, whose maximum resident set size
is that of the largest process of the tree (Linux folds each reaped child's
peak into its parent's, so under mpirun it is the largest rank).  Wall time
is measured around the whole command, launch included.  Before every run the
variant's outputs are removed and dirty pages are flushed (untimed), so each
run creates its files anew on a quiet page cache.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

SUMMARY_PEAK = re.compile(r"peak_rss_max_rank=(\d+)MiB")
SUMMARY_READ = re.compile(r"^summary: .*\bread_bytes=(\d+)", re.M)


@dataclass
class Variant:
    name: str
    procs: int
    argv: list
    outputs: list = field(default_factory=list)
    scratch: list = field(default_factory=list)   # other files a run leaves, removed too
    kind: str = ""          # floor, mpiblend, peer name, launch, ...
    env: dict = field(default_factory=dict)
    launch_group: str = ""  # runs that share mpirun options share a launch cost
    baseline: str = ""      # name of the variant this one is compared with (methods suite)
    input_bytes: int = 0    # bytes of the inputs it must read (methods suite)
    # Variants that take minutes (the torch method peers): no warm-up run
    # (the others warm the page cache) and timed in the first max_runs
    # rounds only (0: every round).
    warm_up: bool = True
    max_runs: int = 0
    walls: list = field(default_factory=list)
    rss_mib: list = field(default_factory=list)
    cpu_s: list = field(default_factory=list)     # user + system, all processes
    own_peak_mib: list = field(default_factory=list)
    read_bytes: list = field(default_factory=list)  # from mpiblend's summary line
    failed: str = ""

    def median(self):
        return statistics.median(self.walls) if self.walls and not self.failed else None

    def cpu(self):
        return statistics.median(self.cpu_s) if self.cpu_s and not self.failed else None

    def peak(self):
        return max(self.rss_mib) if self.rss_mib else None


def remove_outputs(v):
    for path in v.outputs + v.scratch:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def run_once(v, log):
    """One timed run of v; returns (wall seconds, max RSS MiB, CPU seconds,
    its output: stdout then stderr) or records the failure in v.failed."""
    remove_outputs(v)
    os.sync()
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        cmd = ["/usr/bin/time", "-f", "%M %U %S", "-o", rss.name] + v.argv
        env = dict(os.environ, **v.env)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
        wall = time.perf_counter() - t0
        rss_text = rss.read().strip().splitlines()
    if proc.returncode != 0:
        v.failed = f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}"
        print(f"  {v.name} (P={v.procs}) FAILED: {v.failed}", file=log, flush=True)
        return None
    fields = rss_text[-1].split() if rss_text else []
    if len(fields) != 3:
        v.failed = f"/usr/bin/time printed {rss_text!r}"
        return None
    rss_mib = int(fields[0]) / 1024.0
    cpu = float(fields[1]) + float(fields[2])
    return wall, rss_mib, cpu, proc.stdout + proc.stderr


def record(v, result):
    wall, rss_mib, cpu, output = result
    v.walls.append(wall)
    v.rss_mib.append(rss_mib)
    v.cpu_s.append(cpu)
    m = SUMMARY_PEAK.search(output)
    if m:
        v.own_peak_mib.append(float(m.group(1)))
    m = SUMMARY_READ.search(output)
    if m:
        v.read_bytes.append(int(m.group(1)))


def run_rounds(variants, reps, log=sys.stderr, warmup=True, after_warmup=None):
    """Round-robin over variants, reps timed rounds (the start rotating each
    round so no variant always follows the same neighbour), after one untimed
    warm-up round.  after_warmup(v) runs once per variant after its warm-up
    run (output checks)."""
    if warmup:
        print(f"warm-up round ({sum(v.warm_up for v in variants)} variants)", file=log, flush=True)
        for v in variants:
            if v.warm_up and run_once(v, log) is not None and after_warmup is not None:
                after_warmup(v)
    for r in range(reps):
        print(f"round {r + 1}/{reps}", file=log, flush=True)
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for v in order:
            if v.failed or (v.max_runs and len(v.walls) >= v.max_runs):
                continue
            result = run_once(v, log)
            if result is not None:
                record(v, result)
                print(f"  {v.name:<34} P={v.procs} {result[0]:7.2f} s", file=log, flush=True)
    for v in variants:
        remove_outputs(v)
