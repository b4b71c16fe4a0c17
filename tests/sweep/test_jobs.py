"""Each job script in jobs/ runs under the stand-in schedulers
(jobs/standin: qsub and sbatch with the variables PBS and Slurm set, srun as
a local mpirun, 2 ranks): merge, sweep, the eval array job, and the harness
array jobs with stand-in OpenCompass and lm-evaluation-harness programs that
check their arguments against the settings file and write results in the
harnesses' layouts."""
import json
import os
import subprocess
import sys
import unittest

from mpbtest import run
from sweeptest import synth_pair, BIN, ENV, SOURCE, TempCase, manifest, write

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


# Stand-in harnesses: each checks the arguments harness.sh gives it for the
# settings file below, then writes per-sample results the way the real one
# does; the point's lambda (from the folder name mi-LAMBDA) sets them: 4
# problems x 2 samples, the first round(4 * lambda) problems right, answers
# closing </think> when lambda >= 0.5, 3 words each + 10 per think.
FAKE_COMMON = r'''
import json, os, re, sys
args = sys.argv[1:]
def value(flag):
    assert flag in args, (flag, args)
    return args[args.index(flag) + 1]
def fail(why):
    sys.exit("stand-in: " + why + ": " + " ".join(args))
def answers(model):
    lam = float(re.search(r"mi-([0-9.]+)$", model.rstrip("/")).group(1))
    assert os.path.exists(os.path.join(model, "model.safetensors")) or \
        os.path.exists(os.path.join(model, "model.safetensors.index.json")), model
    think = lam >= 0.5
    text = ("<think>" + " w" * 10 + " </think>" if think else "") + "the answer 7"
    return [(i < round(4 * lam), [text, text]) for i in range(4)]
'''
FAKE_LM_EVAL = FAKE_COMMON + r'''
assert value("--model") == "vllm"
margs = dict(kv.split("=", 1) for kv in value("--model_args").split(","))
if margs["tensor_parallel_size"] != "2" or margs["seed"] != "5": fail("model_args")
if value("--tasks") != "gsm8k,ifeval": fail("tasks")
g = dict(kv.split("=", 1) for kv in value("--gen_kwargs").split(","))
if g != {"do_sample": "True", "temperature": "0.6", "top_p": "0.95", "max_gen_toks": "1024"}:
    fail("gen_kwargs")
if "--log_samples" not in args or "--apply_chat_template" not in args: fail("flags")
out = os.path.join(value("--output_path"), "model")
os.makedirs(out)
for task in ("gsm8k", "ifeval"):
    with open(os.path.join(out, "samples_%s_2025-01-01T00-00-00.jsonl" % task), "w") as f:
        for i, (right, texts) in enumerate(answers(margs["pretrained"])):
            f.write(json.dumps({"doc_id": i, "resps": [texts], "exact_match": float(right)}) + "\n")
print("lm_eval stand-in done")
'''
FAKE_OPENCOMPASS = FAKE_COMMON + r'''
if value("--accelerator") != "lmdeploy" or value("--hf-num-gpus") != "2": fail("backend")
if value("--max-out-len") != "1024" or value("--hf-type") != "chat": fail("lengths")
i = args.index("--datasets")
if args[i + 1:i + 3] != ["aime2025_gen", "gpqa_gen"]: fail("datasets")
i = args.index("--generation-kwargs")
if args[i + 1:i + 4] != ["do_sample=True", "temperature=0.6", "top_p=0.95"]: fail("kwargs")
if "--dump-eval-details" not in args: fail("flags")
out = os.path.join(value("--work-dir"), "20250101_000000", "results", "model")
os.makedirs(out)
for task in ("aime2025_gen", "gpqa_gen"):
    details = [{"prediction": texts, "correct": right}
               for right, texts in answers(value("--hf-path"))]
    with open(os.path.join(out, task + ".json"), "w") as f:
        json.dump({"accuracy": 0, "details": details}, f)
'''
SETTINGS = """HARNESS=%s
BACKEND=%s
TASKS=%s   # comment
SAMPLES=2
TEMPERATURE=0.6
TOP_P=0.95
MAX_NEW_TOKENS=1024
GPUS=2
SEED=5
"""


class HarnessJobs(TempCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        synth_pair(cls.tmp)
        write(os.path.join(cls.tmp, "study.yaml"),
              "merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n"
              "parameters: {lambda: 0.5}\nsweep:\n  output: mi-{lambda}\n"
              "  parameters: {lambda: [0, 0.5, 1]}\n")
        run(2, "sweep", "study.yaml", "--out-dir", "sweep", "--format", "safetensors",
             "--quiet", expect=0, cwd=cls.tmp)
        bin_dir = os.path.join(cls.tmp, "harness-bin")
        os.makedirs(bin_dir)
        for name, text in (("lm_eval", FAKE_LM_EVAL), ("opencompass", FAKE_OPENCOMPASS)):
            write(os.path.join(bin_dir, name), "#!%s\n%s" % (sys.executable, text))
            os.chmod(os.path.join(bin_dir, name), 0o755)
        cls.env = dict(ENV, PATH=os.pathsep.join([os.path.join(JOBS, "standin"), bin_dir,
                                                  ENV["PATH"]]),
                       MPIBLEND=BIN, PYTHON=sys.executable,
                       HARNESS_SH=os.path.join(JOBS, "eval", "harness.sh"))

    def submit(self, args, ok=True):
        p = subprocess.run(args, capture_output=True, text=True, env=self.env, cwd=self.tmp,
                           timeout=300)
        if ok:
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def check(self, out):
        points = {q["values"]["lambda"]: q for q in manifest(os.path.join(self.tmp, out))["points"]}
        for lam, want_acc in (("0", 0.0), ("0.5", 0.5), ("1", 1.0)):
            s = points[lam]["scores"]
            think = float(lam) >= 0.5
            self.assertEqual(s["acc"], want_acc, lam)
            self.assertEqual(s["think"], 1.0 if think else 0.0, lam)
            # "the answer 7" is 3 words (no tokenizer in the folder); with the
            # think block: <think>, 10 w, "</think>the", answer, 7.
            self.assertEqual(s["tokens"], 14 if think else 3, lam)

    def test_pbs_opencompass_lmdeploy(self):
        cfg = write(os.path.join(self.tmp, "oc.env"),
                    SETTINGS % ("opencompass", "lmdeploy", "aime2025_gen,gpqa_gen"))
        self.submit(["qsub", "-J", "0-2", "-v", "OUT_DIR=sweep,SETTINGS=" + cfg,
                     os.path.join(JOBS, "pbs", "eval-harness.pbs")])
        self.check("sweep")
        with open(os.path.join(self.tmp, "sweep", "mi-0.5.eval", "20250101_000000", "results",
                               "model", "gpqa_gen.json")) as f:
            self.assertEqual(len(json.load(f)["details"]), 4)

    def test_slurm_lm_eval_vllm(self):
        import shutil
        shutil.copytree(os.path.join(self.tmp, "sweep"), os.path.join(self.tmp, "sweep2"))
        shutil.rmtree(os.path.join(self.tmp, "sweep2", "eval"), ignore_errors=True)
        cfg = write(os.path.join(self.tmp, "lm.env"),
                    SETTINGS % ("lm-eval", "vllm", "gsm8k,ifeval"))
        self.submit(["sbatch", "--array=0-2", os.path.join(JOBS, "slurm", "eval-harness.sbatch"),
                     "sweep2", cfg])
        self.check("sweep2")
        # Settings the harness cannot run fail the point with the reason.
        bad = write(os.path.join(self.tmp, "bad.env"),
                    SETTINGS % ("lm-eval", "lmdeploy", "gsm8k"))
        p = self.submit(["sbatch", "--array=1-1", os.path.join(JOBS, "slurm", "eval-harness.sbatch"),
                         "sweep2", bad, "--force"], ok=False)
        self.assertNotEqual(p.returncode, 0)
        with open(os.path.join(self.tmp, "sweep2", "eval", "acc", "point-1.err")) as f:
            self.assertIn("no lmdeploy backend", f.read())


if __name__ == "__main__":
    unittest.main()
