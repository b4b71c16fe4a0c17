"""mpiblend eval and plot: a command per point without a shell, fields
substituted safely (paths with spaces and quotes), scores from JSON, a regex
or the last number, a failing command that fails only its point, --point for
array jobs, --shell."""
import csv
import json
import os
import shlex
import sys
import unittest

from mpbtest import run
from sweeptest import synth_pair, TempCase, write

SCORER = r'''
import json, os, sys
path, lam = sys.argv[1], float(sys.argv[2])
assert os.path.isfile(path), path
if lam == 0.5:
    sys.stderr.write("refusing 0.5\n")
    sys.exit(3)
print("loading", path)
print(json.dumps({"acc": {"top1": round(1 - (lam - 0.4) ** 2, 6)}, "n": 7}))
print("done in 12 s")
'''


class Eval(TempCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = os.path.join(cls.tmp, "it's a dir")  # a space and a quote
        os.makedirs(cls.dir)
        synth_pair(cls.dir)
        cfg = write(os.path.join(cls.dir, "s.yaml"),
                    "merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n"
                    "parameters: {lambda: 0.5}\nsweep:\n  output: 'mi {lambda}.h5'\n"
                    "  parameters: {lambda: [0, 0.25, 0.5, 0.75, 1]}\n")
        cls.out = os.path.join(cls.dir, "sweep out")
        run(2, "sweep", cfg, "--out-dir", cls.out, "--quiet", expect=0)
        cls.scorer = write(os.path.join(cls.dir, "score me.py"), SCORER)

    def results(self, metric):
        with open(os.path.join(self.out, "results.csv")) as f:
            return {r["lambda"]: r for r in csv.DictReader(f) if r["metric"] == metric}

    def test_json_key_failures_and_jobs(self):
        p = run(None, "eval", self.out, "--cmd", "%s %s {path} {lambda}" % (sys.executable,
                                                                        shlex.quote(self.scorer)),
                 "--metric", "acc", "--json-key", "acc.top1", "--jobs", "3", expect=None)
        self.assertNotEqual(p.returncode, 0)  # one point failed
        self.assertIn("1 of 5 evaluations failed", p.stderr)
        r = self.results("acc")
        self.assertEqual(sorted(r), ["0", "0.25", "0.5", "0.75", "1"])
        for lam in ["0", "0.25", "0.75", "1"]:
            self.assertEqual(r[lam]["status"], "ok")
            self.assertAlmostEqual(float(r[lam]["score"]), 1 - (float(lam) - 0.4) ** 2, 6)
            self.assertEqual(r[lam]["path"], "mi %s.h5" % lam)
        self.assertEqual(r["0.5"]["status"], "failed")
        self.assertEqual(r["0.5"]["exit_code"], "3")
        self.assertEqual(r["0.5"]["score"], "")
        with open(os.path.join(self.out, "eval", "acc", "point-2.err")) as f:
            self.assertIn("refusing 0.5", f.read())
        # A rerun only retries what has no score.
        p = run(None, "eval", self.out, "--cmd", "%s %s {path} {lambda}" % (sys.executable,
                                                                        shlex.quote(self.scorer)),
                 "--metric", "acc", "--json-key", "acc.top1", expect=None)
        self.assertIn("0 scored, 1 failed, 4 already scored", p.stdout)
        # plot draws the four scores
        run(None, "plot", self.out, "--metric", "acc", expect=0)
        with open(os.path.join(self.out, "plot.svg")) as f:
            svg = f.read()
        self.assertTrue(svg.startswith("<svg"))
        self.assertEqual(svg.count("<circle"), 4)

    def test_regex_last_number_point_and_shell(self):
        cmd = "%s %s {path} {lambda}" % (sys.executable, shlex.quote(self.scorer))
        run(None, "eval", self.out, "--cmd", cmd, "--metric", "secs", "--point", "1", expect=0)
        self.assertEqual(self.results("secs")["0.25"]["score"], "12")  # the last number
        self.assertEqual(len(self.results("secs")), 1)
        run(None, "eval", self.out, "--cmd", cmd, "--metric", "n", "--regex", '"n": ([0-9]+)',
             "--point", "3", expect=0)
        self.assertEqual(self.results("n")["0.75"]["score"], "7")
        # --shell: the line goes to /bin/sh, each field quoted for it.
        run(None, "eval", self.out, "--shell", "--metric", "sh", "--point", "0", "--cmd",
             "test -f {path} && echo {name} | wc -c", expect=0)
        self.assertEqual(self.results("sh")["0"]["score"], str(len("mi 0.h5") + 1))

    def test_arguments_are_not_shell_words(self):
        # Without --shell a ; is refused rather than run.
        p = run(None, "eval", self.out, "--cmd", "echo {path}; rm -rf /", "--metric", "x", expect=None)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("pass --shell", p.stderr)
        p = run(None, "eval", self.out, "--cmd", "echo {pth}", "--metric", "x", expect=None)
        self.assertIn("unknown field {pth}", p.stderr)
        # A field's value is one argument even with spaces and quotes in it.
        run(None, "eval", self.out, "--cmd", "%s -c 'import sys; print(len(sys.argv))' {path} "
             "{dir}" % sys.executable, "--metric", "argc", "--point", "4", expect=0)
        self.assertEqual(self.results("argc")["1"]["score"], "3")
        # A missing program fails its point with the reason.
        p = run(None, "eval", self.out, "--cmd", "no-such-program-xyz {path}", "--metric", "gone",
                 "--point", "0", expect=None)
        self.assertIn("cannot run 'no-such-program-xyz'", p.stdout)
        with open(os.path.join(self.out, "eval", "gone", "point-0.json")) as f:
            rec = json.load(f)
        self.assertEqual(rec["status"], "failed")


if __name__ == "__main__":
    unittest.main()
