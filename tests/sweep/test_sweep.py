"""mpiblend sweep: outputs bitwise identical to merging each point alone, for
1, 2 and 3 ranks, both transfer modes, and split into passes; checksums
independent of ranks and slabs; resume after a kill; the errors that protect
a sweep folder."""
import glob
import os
import re
import shutil
import unittest

import h5py
import numpy as np

from mpbtest import run, run_many
from sweeptest import (TempCase, attr, crc32c, make_small_inputs, manifest, synth_pair, tensors,
                       write)

LAMBDAS = ["0", "0.2", "0.4", "0.45", "0.5", "0.55", "0.6", "0.8", "1"]
HEAD = "merge_method: interpolate\nmodels:\n  - model: a.h5\n  - model: b.h5\n"


def sweep_config(values, extra=""):
    return (HEAD + "parameters:\n  lambda: 0.5\n" + extra +
            "sweep:\n  output: mi-{lambda}.h5\n  parameters:\n    lambda: [%s]\n"
            % ", ".join(values))


class LambdaSweep(TempCase):
    """The paper's 9 points on bf16 synthetic checkpoints."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t = cls.tmp
        synth_pair(t)
        write(os.path.join(t, "sweep.yaml"), sweep_config(LAMBDAS))
        # The reference: each point merged alone, from a config written here.
        jobs = []
        for lam in LAMBDAS:
            cfg = write(os.path.join(t, "one-%s.yaml" % lam),
                        HEAD + "parameters:\n  lambda: %s\n" % lam)
            jobs.append((2, "merge", cfg, "--out", os.path.join(t, "one-%s.h5" % lam),
                         "--quiet"))
        run_many(jobs)
        cls.expected = {lam: tensors(os.path.join(t, "one-%s.h5" % lam)) for lam in LAMBDAS}

    def sweep(self, out, np_, *extra):
        return run(np_, "sweep", os.path.join(self.tmp, "sweep.yaml"), "--out-dir", out,
                    "--quiet", *list(extra), expect=0)

    def check_folder(self, out):
        m = manifest(out)
        self.assertEqual([p["values"]["lambda"] for p in m["points"]], LAMBDAS)
        for p in m["points"]:
            lam = p["values"]["lambda"]
            path = os.path.join(out, p["path"])
            self.assertEqual(p["path"], "mi-%s.h5" % lam)
            self.assertEqual(p["status"], "done")
            self.assertEqual(p["bytes"], os.path.getsize(path))
            self.assertEqual(attr(path, "mpiblend_checksum"), p["checksum"])
            got = tensors(path)
            self.assertEqual(sorted(got), sorted(self.expected[lam]))
            for name, want in self.expected[lam].items():
                self.assertEqual(got[name], want, "%s differs at lambda %s" % (name, lam))
        return {p["path"]: p["checksum"] for p in m["points"]}

    def test_identical_to_merges_for_1_2_3_ranks_and_passes(self):
        # Two of the runs move data in collective rounds: same checksums.
        sums = []
        runs = [(1, []), (2, ["--slab-kib", "16"]), (3, ["--slab-kib", "4", "--io", "collective"]),
                (2, ["--max-outputs", "4", "--slab-kib", "8", "--io", "collective"])]
        outs = [os.path.join(self.tmp, "out-%d-%s" % (np_, "-".join(extra)))
                for np_, extra in runs]
        procs = run_many([(np_, "sweep", os.path.join(self.tmp, "sweep.yaml"), "--out-dir", out,
                           "--quiet", *extra) for out, (np_, extra) in zip(outs, runs)])
        for out, (np_, extra), p in zip(outs, runs, procs):
            self.assertIn("9 to write", p.stdout)
            sums.append(self.check_folder(out))
            if "--max-outputs" in extra:
                self.assertIn("in 3 passes", p.stdout)
                self.assertEqual(sorted({q["pass"] for q in manifest(out)["points"]}),
                                 [1, 2, 3])
            with open(os.path.join(out, "manifest.csv")) as f:
                lines = f.read().splitlines()
            self.assertEqual(lines[0], "point,lambda,path,bytes,checksum,status,pass,wall_s,"
                                       "config_hash")
            self.assertEqual(len(lines), 10)
        # Checksums do not depend on rank count, slab size or passes.
        for s in sums[1:]:
            self.assertEqual(s, sums[0])
        self.assertEqual(len(set(sums[0].values())), 9)

    def test_each_output_records_its_own_config(self):
        out = os.path.join(self.tmp, "own-config")
        self.sweep(out, 2)
        text = attr(os.path.join(out, "mi-0.45.h5"), "mpiblend_config")
        self.assertIn("lambda: 0.45", text)
        self.assertNotIn("sweep", text)

    def test_resume_after_kill_redoes_only_unfinished_points(self):
        out = os.path.join(self.tmp, "resume")
        first = write(os.path.join(self.tmp, "first.yaml"), sweep_config(LAMBDAS[:3]))
        run(2, "sweep", first, "--out-dir", out, "--quiet", expect=0)
        before = {n: os.stat(os.path.join(out, "mi-%s.h5" % n)) for n in LAMBDAS[:3]}
        # The full grid in the same folder, killed in its first pass.
        env = dict(__import__("sweeptest").ENV, MPB_TEST_ABORT_RANK="1",
                   MPB_TEST_ABORT_AFTER="3")
        full = os.path.join(self.tmp, "sweep.yaml")
        p = run(2, "sweep", full, "--out-dir", out, "--quiet", "--max-outputs", "3",
                 "--slab-kib", "16", expect=None, env=env)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("3 complete, 6 to write", p.stdout)
        states = {q["path"]: q["status"] for q in manifest(out)["points"]}
        self.assertEqual(sorted(k for k, v in states.items() if v == "done"),
                         sorted("mi-%s.h5" % n for n in LAMBDAS[:3]))
        for n in LAMBDAS[3:]:
            self.assertFalse(os.path.exists(os.path.join(out, "mi-%s.h5" % n)))
        # Rerun: the three finished points are kept, the rest written.
        p = run(2, "sweep", full, "--out-dir", out, "--quiet", expect=0)
        self.assertIn("3 complete, 6 to write", p.stdout)
        for n, st in before.items():
            now = os.stat(os.path.join(out, "mi-%s.h5" % n))
            self.assertEqual((now.st_ino, now.st_mtime_ns), (st.st_ino, st.st_mtime_ns))
        self.assertEqual(glob.glob(os.path.join(out, ".*tmp")), [])
        self.check_folder(out)
        # A damaged output is found and redone.
        victim = os.path.join(out, "mi-0.8.h5")
        with open(victim, "r+b") as f:
            f.truncate(os.path.getsize(victim) - 10)
        p = run(2, "sweep", full, "--out-dir", out, "--quiet", expect=0)
        self.assertIn("8 complete, 1 to write", p.stdout)
        self.check_folder(out)

    def test_changed_config_in_same_folder_is_an_error(self):
        out = os.path.join(self.tmp, "changed")
        self.sweep(out, 2)
        other = write(os.path.join(self.tmp, "changed.yaml"),
                      sweep_config(LAMBDAS, "out_dtype: float32\n"))
        p = run(2, "sweep", other, "--out-dir", out, expect=None)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("holds a sweep of another config", p.stderr)
        run(2, "sweep", other, "--out-dir", out, "--quiet", "--force", expect=0)
        self.assertEqual(tensors(os.path.join(out, "mi-1.h5"))["model.norm.weight"][0],
                         "float32")

    def test_a_foreign_file_is_not_replaced(self):
        out = os.path.join(self.tmp, "foreign")
        os.makedirs(out)
        write(os.path.join(out, "mi-0.5.h5"), "not mine")
        p = run(2, "sweep", os.path.join(self.tmp, "sweep.yaml"), "--out-dir", out, expect=None)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("is not in the folder's manifest", p.stderr)
        with open(os.path.join(out, "mi-0.5.h5")) as f:
            self.assertEqual(f.read(), "not mine")

    def test_dry_run_writes_nothing(self):
        out = os.path.join(self.tmp, "dry")
        p = self.sweep(out, 2, "--dry-run")
        self.assertIn("9 points in 1 pass", p.stdout)
        self.assertIn("point 3: lambda=0.45 -> %s/mi-0.45.h5" % out, p.stdout)
        self.assertFalse(os.path.exists(out))


class FilteredAndPerModel(TempCase):
    """Two parameters at once: filtered lambda entries, layer_range, f16/f32/int
    tensors, and a per-model weight of a 3-input linear merge."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        make_small_inputs(cls.tmp)

    def compare_with_merges(self, head, grid, out, np_=2):
        """grid: list of (file name, body of the point's own config)."""
        jobs = []
        for name, body in grid:
            cfg = write(os.path.join(self.tmp, "one-" + name + ".yaml"), head + body)
            jobs.append((np_, "merge", cfg, "--out", os.path.join(self.tmp, "one-" + name),
                         "--quiet", "--force"))
        run_many(jobs)
        for name, _ in grid:
            self.assertEqual(tensors(os.path.join(out, name)),
                             tensors(os.path.join(self.tmp, "one-" + name)), name)

    def test_filtered_entries_and_layer_range(self):
        head = ("merge_method: interpolate\nmodels:\n  - model: in0.h5\n  - model: in1.h5\n"
                "layer_range: [1, 1]\nkeep_outside: in0.h5\n")
        cfg = write(os.path.join(self.tmp, "filtered.yaml"), head +
                    "parameters:\n  lambda:\n    - {filter: self_attn, value: 0}\n"
                    "    - {value: 0.8}\n"
                    "sweep:\n  output: f-{attn}-{rest}.h5\n  parameters:\n"
                    "    lambda@self_attn: {values: [0.25, 0.5], name: attn}\n"
                    "    lambda@*: {start: 0.6, stop: 1, step: 0.2, name: rest}\n")
        out = os.path.join(self.tmp, "filtered")
        run(3, "sweep", cfg, "--out-dir", out, "--quiet", "--slab-kib", "1", expect=0)
        grid = []
        for attn in ["0.25", "0.5"]:
            for rest in ["0.6", "0.8", "1"]:
                grid.append(("f-%s-%s.h5" % (attn, rest),
                             "parameters:\n  lambda:\n    - {filter: self_attn, value: %s}\n"
                             "    - {value: %s}\n" % (attn, rest)))
        self.assertEqual(sorted(os.path.basename(p) for p in
                                glob.glob(os.path.join(out, "f-*.h5"))),
                         sorted(g[0] for g in grid))
        self.compare_with_merges(head, grid, out)

    def test_per_model_weight_of_linear(self):
        head = ("merge_method: linear\nmodels:\n  - model: in0.h5\n    parameters: {weight: 1}\n"
                "  - model: in1.h5\n    parameters: {weight: 1}\n  - model: in2.h5\n"
                "    parameters: {weight: 0.5}\nparameters: {normalize: false}\n")
        cfg = write(os.path.join(self.tmp, "linear.yaml"), head +
                    "sweep:\n  output: w{w}.h5\n  parameters:\n"
                    "    models[2].weight: {values: [-0.5, 0.125, 2], name: w}\n")
        out = os.path.join(self.tmp, "linear")
        run(2, "sweep", cfg, "--out-dir", out, "--quiet", expect=0)
        self.compare_with_merges("", [("w%s.h5" % w, head.replace("{weight: 0.5}",
                                                                "{weight: %s}" % w))
                                      for w in ["-0.5", "0.125", "2"]], out)

    def test_checksum_is_crc32c_of_the_tensor_data_in_name_order(self):
        cfg = write(os.path.join(self.tmp, "crc.yaml"),
                    "merge_method: interpolate\nmodels:\n  - model: in0.h5\n"
                    "  - model: in1.h5\nparameters: {lambda: 0.3}\n"
                    "sweep:\n  parameters:\n    lambda: [0.3, 0.7]\n")
        out = os.path.join(self.tmp, "crc")
        run(3, "sweep", cfg, "--out-dir", out, "--quiet", "--slab-kib", "1", expect=0)
        for p in manifest(out)["points"]:
            data = tensors(os.path.join(out, p["path"]))
            crc = 0
            for name in sorted(data):
                crc = crc32c(data[name][2], crc)
            self.assertEqual(p["checksum"], "crc32c:%08x" % crc)

    def with_big_tensor(self):
        """in0..in2 plus a tensor past 65,536 elements (the two-level magnitude
        selection) whose deltas repeat magnitudes (cuts inside runs of ties)."""
        if getattr(self, "big", None):
            return self.big
        rng = np.random.default_rng(5)
        base = rng.standard_normal((300, 300)).astype(np.float32)
        self.big = []
        for i in range(3):
            src, dst = (os.path.join(self.tmp, "%s%d.h5" % (p, i)) for p in ("in", "big"))
            shutil.copyfile(src, dst)
            with h5py.File(dst, "a") as f:
                d = rng.integers(-6, 7, base.shape).astype(np.float32) / 64 if i else 0
                f["model.layers.1.mlp.down_proj.weight"] = base + d
            self.big.append(dst)
        return self.big

    def test_every_method_sweeps_equal_to_merges(self):
        """Methods with whole-tensor statistics and random masks sweep in one
        pass too, each point equal to merging its own config, whatever the
        rank count, slab and memory budget (0: every pass re-reads)."""
        self.with_big_tensor()
        task = ("base_model: big0.h5\nmodels:\n  - model: big1.h5\n"
                "    parameters: {weight: 0.6, density: %s}\n  - model: big2.h5\n"
                "    parameters: {weight: 0.4, density: %s}\n")
        cases = {
            "ties": ("merge_method: ties\n" + task, "parameters: {rescale: true}\n",
                     "models[0].density", ["0.2", "0.5", "0.9"], ("{d}", "0.5")),
            "dare_ties": ("merge_method: dare_ties\n" + task, "parameters: {seed: 4}\n",
                          "models[1].density", ["0.3", "0.7"], ("0.5", "{d}")),
            "breadcrumbs": ("merge_method: breadcrumbs\n" + task,
                            "parameters: {gamma: {d}, rescale: true}\n", "gamma",
                            ["0.01", "0.1"], ("0.6", "0.7")),
            "slerp": ("merge_method: slerp\nbase_model: big0.h5\nmodels:\n  - model: big1.h5\n",
                      "parameters: {t: {d}}\n", "t", ["0.1", "0.6"], None),
            # sce: a variance select over the 65,536-element tensor, and none (1).
            "sce": ("merge_method: sce\nbase_model: big0.h5\nmodels:\n  - model: big1.h5\n"
                    "  - model: big2.h5\n", "parameters: {select_topk: {d}}\n",
                    "select_topk", ["0.2", "0.6", "1"], None),
            # The rest on two runs: their own kernels, no new statistics.
            "task_arithmetic": ("merge_method: task_arithmetic\n" + task,
                                "parameters: {lambda: {d}}\n", "lambda", ["0.5", "1.3"],
                                ("1", "1")),
            "della": ("merge_method: della\n" + task, "parameters: {epsilon: {d}, seed: 2}\n",
                      "epsilon", ["0.05", "0.2"], ("0.5", "0.6")),
            "nearswap": ("merge_method: nearswap\nbase_model: big0.h5\nmodels:\n"
                         "  - model: big1.h5\n", "parameters: {t: {d}}\n", "t",
                         ["0.01", "0.2"], None),
            "multislerp": ("merge_method: multislerp\nmodels:\n  - model: big0.h5\n"
                           "    parameters: {weight: {d}}\n  - model: big1.h5\n"
                           "    parameters: {weight: 1}\n  - model: big2.h5\n"
                           "    parameters: {weight: 1}\n", "", "models[0].weight",
                           ["0.5", "2"], None),
            "nuslerp": ("merge_method: nuslerp\nmodels:\n  - model: big1.h5\n"
                        "    parameters: {weight: {d}}\n  - model: big2.h5\n"
                        "    parameters: {weight: 1}\n", "", "models[0].weight",
                        ["0.25", "3"], None),
            # ram (issue 15b): epsilon 0.05 splits the 1/64 steps of the deltas.
            "ram": ("merge_method: ram\nbase_model: big0.h5\nmodels:\n  - model: big1.h5\n"
                    "  - model: big2.h5\n", "parameters: {epsilon: {d}}\n", "epsilon",
                    ["0.001", "0.05"], None),
        }
        short = {"task_arithmetic", "della", "nearswap", "multislerp", "nuslerp", "ram"}
        for method, (head, params, key, values, dens) in cases.items():
            if dens:
                head = head % dens
            body = head.replace("{d}", values[0]) + params.replace("{d}", values[0])
            cfg = write(os.path.join(self.tmp, method + "-sweep.yaml"), body +
                        "sweep:\n  output: %s-{v}.h5\n  parameters:\n"
                        "    %s: {values: [%s], name: v}\n" % (method, key, ", ".join(values)))
            grid = [("%s-%s.h5" % (method, v),
                     head.replace("{d}", v) + params.replace("{d}", v)) for v in values]
            runs = ((3, ["--slab-kib", "1", "--memory-kib", "0"]),
                    (2, ["--slab-kib", "4", "--memory-kib", "40"]), (1, []))
            for np_, extra in runs[1:] if method in short else runs:
                out = os.path.join(self.tmp, "%s-np%d" % (method, np_))
                run(np_, "sweep", cfg, "--out-dir", out, "--quiet", *extra, expect=0)
                self.compare_with_merges("", grid, out)

    def test_a_sweep_reads_each_input_once(self):
        """A ties sweep reads its inputs once for all points when the budget
        holds them: the summary's read_bytes is the inputs' tensor bytes."""
        big = self.with_big_tensor()
        cfg = write(os.path.join(self.tmp, "reads.yaml"),
                    "merge_method: ties\nbase_model: big0.h5\nmodels:\n  - model: big1.h5\n"
                    "    parameters: {weight: 1, density: 0.3}\n  - model: big2.h5\n"
                    "    parameters: {weight: 1, density: 0.3}\n"
                    "sweep:\n  output: r-{d}.h5\n  parameters:\n"
                    "    models[0].density: {values: [0.2, 0.4, 0.5, 0.7, 0.9], name: d}\n")
        p = run(2, "sweep", cfg, "--out-dir", os.path.join(self.tmp, "reads"), expect=0)
        read = int(re.search(r"read_bytes=(\d+)", p.stderr).group(1))
        # Every input once; the int32 tensor is carried from the base alone.
        want = sum(len(t[2]) for i, b in enumerate(big) for t in tensors(b).values()
                   if i == 0 or t[0] != "int32")
        self.assertEqual(read, want)

if __name__ == "__main__":
    unittest.main()
