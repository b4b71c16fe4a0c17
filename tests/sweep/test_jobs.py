"""Each job script in jobs/ runs under the stand-in schedulers
(jobs/standin: qsub and sbatch with the variables PBS and Slurm set, srun as
a local mpirun, 2 ranks): merge, sweep and the eval array job."""
import os
import subprocess
import sys
import unittest

from sweeptest import synth_pair, BIN, ENV, SOURCE, TempCase, manifest, run, write

JOBS = os.path.join(SOURCE, "jobs")
SCORER = "import sys; print('score:' + str(1 + float(sys.argv[1])))"  # no comma: qsub -v splits on commas


class Jobs(TempCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        synth_pair(cls.tmp)
        cls.cfg = write(os.path.join(cls.tmp, "study.yaml"),
                        "merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n"
                        "parameters: {lambda: 0.5}\nsweep:\n  output: mi-{lambda}.h5\n"
                        "  parameters: {lambda: [0, 0.5, 1]}\n")
        cls.env = dict(ENV, PATH=os.path.join(JOBS, "standin") + os.pathsep + ENV["PATH"],
                       MPIBLEND=BIN, MPIBLEND_ARGS="--quiet")

    def submit(self, args):
        p = subprocess.run(args, capture_output=True, text=True, env=self.env, cwd=self.tmp,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def check_sweep_and_eval(self, out):
        points = manifest(out)["points"]
        self.assertEqual([q["status"] for q in points], ["done"] * 3)
        with open(os.path.join(out, "results.csv")) as f:
            rows = f.read().splitlines()[1:]
        self.assertEqual(sorted(r.split(",")[4] for r in rows), ["1", "1.5", "2"])

    def test_pbs(self):
        out = os.path.join(self.tmp, "pbs-sweep")
        p = self.submit(["qsub", "-v", "CONFIG=study.yaml,OUT_DIR=pbs-sweep",
                         os.path.join(JOBS, "pbs", "sweep.pbs")])
        self.assertIn("3 to write", p.stdout)
        self.submit(["qsub", "-J", "0-2", "-v", "OUT_DIR=pbs-sweep,METRIC=s,EVAL_CMD=%s -c "
                     "\"%s\" {lambda}" % (sys.executable, SCORER),
                     os.path.join(JOBS, "pbs", "eval-array.pbs")])
        self.check_sweep_and_eval(out)
        merge = write(os.path.join(self.tmp, "one.yaml"),
                      "merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n"
                      "parameters: {lambda: 0.5}\n")
        self.submit(["qsub", "-v", "CONFIG=%s,OUT=pbs-merged.h5" % merge,
                     os.path.join(JOBS, "pbs", "merge.pbs")])
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "pbs-merged.h5")))

    def test_slurm(self):
        out = os.path.join(self.tmp, "slurm-sweep")
        p = self.submit(["sbatch", os.path.join(JOBS, "slurm", "sweep.sbatch"), "study.yaml",
                         "slurm-sweep", "--quiet", "--max-outputs", "2"])
        self.assertIn("in 2 passes", p.stdout)
        self.submit(["sbatch", "--array=0-2", os.path.join(JOBS, "slurm", "eval-array.sbatch"),
                     "slurm-sweep", "s", "%s -c \"%s\" {lambda}" % (sys.executable, SCORER)])
        self.check_sweep_and_eval(out)
        merge = write(os.path.join(self.tmp, "one.yaml"),
                      "merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n"
                      "parameters: {lambda: 0.5}\n")
        self.submit(["sbatch", os.path.join(JOBS, "slurm", "merge.sbatch"), merge,
                     "slurm-merged.h5", "--quiet"])
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "slurm-merged.h5")))

    def test_lustre_striping(self):
        """Where `lfs` exists the job stripes the output folder and aligns
        tensors to the stripe: a stand-in lfs records its arguments."""
        import h5py
        import numpy as np
        bin_dir = os.path.join(self.tmp, "lfs-bin")
        os.makedirs(bin_dir, exist_ok=True)
        log = os.path.join(self.tmp, "lfs.log")
        write(os.path.join(bin_dir, "lfs"), '#!/bin/sh\necho "$@" >> "%s"\n' % log)
        os.chmod(os.path.join(bin_dir, "lfs"), 0o755)
        for name, seed in (("big-a.h5", 1), ("big-b.h5", 2)):
            rng = np.random.default_rng(seed)
            with h5py.File(os.path.join(self.tmp, name), "w") as f:
                for t in ("first", "second", "third"):  # 1.5 MiB each
                    f[t] = rng.standard_normal((768, 512), np.float32)
        cfg = write(os.path.join(self.tmp, "big.yaml"),
                    "merge_method: interpolate\nmodels: [{model: big-a.h5}, {model: big-b.h5}]\n"
                    "parameters: {lambda: 0.5}\n")
        out_dir = os.path.join(self.tmp, "striped")
        os.makedirs(out_dir, exist_ok=True)
        env = dict(self.env, PATH=bin_dir + os.pathsep + self.env["PATH"])
        p = subprocess.run(["sbatch", os.path.join(JOBS, "slurm", "merge.sbatch"), cfg,
                            os.path.join(out_dir, "m.h5"), "--quiet"], capture_output=True,
                           text=True, env=env, cwd=self.tmp, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(log) as f:
            self.assertEqual(f.read().split(), ["setstripe", "-c", "-1", "-S", "4096K", out_dir])
        with h5py.File(os.path.join(out_dir, "m.h5"), "r") as f:
            offsets = {t: f[t].id.get_offset() for t in ("first", "second", "third")}
        for t, off in offsets.items():
            self.assertEqual(off % (4 << 20), 0, f"{t} starts at {off}, not on a 4 MiB stripe")


if __name__ == "__main__":
    unittest.main()
