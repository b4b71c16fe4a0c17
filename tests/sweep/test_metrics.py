"""Several metrics per point: eval reading a list of JSON keys (and
--json-all), the manifest carrying every metric, refine choosing on the
trade-off (--where, --around pareto, steepest on any metric) and plot
drawing panels and one metric against another with the Pareto front.
The scores are hand-made, so every expected value is worked out here."""
import csv
import json
import os
import re
import shlex
import subprocess
import sys
import unittest

from mpbtest import run
from sweeptest import BIN, ENV, lambda_study, TempCase, manifest, write, write_scores

GRID = ["0", "0.2", "0.4", "0.5", "0.6", "0.8", "1"]
# Accuracy against mean tokens: 0.2 is beaten by 0 (less accurate, longer),
# 1 by 0.8; the front is 0, 0.4, 0.5, 0.6, 0.8.
ACC = {"0": 0.30, "0.2": 0.28, "0.4": 0.50, "0.5": 0.62, "0.6": 0.70, "0.8": 0.78, "1": 0.76}
TOKENS = {"0": 100, "0.2": 120, "0.4": 300, "0.5": 600, "0.6": 900, "0.8": 1500, "1": 2500}
THINK = {"0": 0.0, "0.2": 0.0, "0.4": 0.25, "0.5": 0.5, "0.6": 0.9, "0.8": 1.0, "1": 1.0}

# Prints a harness-like JSON: nested keys, a key with a comma (as
# lm-evaluation-harness writes them), a string and a boolean to ignore.
# Fails while the file FAIL_<lambda> exists next to it.
SCORER = r'''
import json, os, sys
lam = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
if os.path.exists(os.path.join(here, "FAIL_" + lam)):
    sys.exit(4)
acc, tokens, think = %r, %r, %r
print("generating ...")
print(json.dumps({"acc": acc[lam], "tokens": tokens[lam], "think": {"rate": think[lam]},
                  "lm": {"exact_match,strict-match": acc[lam]}, "model": "x", "ok": True,
                  "per_task": [acc[lam], 1]}))
''' % (ACC, TOKENS, THINK)


def reference_front(points, directions):
    """Independent Pareto front: points[name] = (score, ...); directions
    +1 for maximize, -1 for minimize."""
    def signed(p):
        return [d * v for d, v in zip(directions, p)]
    front = set()
    for name, p in points.items():
        a = signed(p)
        if not any(all(x >= y for x, y in zip(signed(q), a)) and signed(q) != a
                   for other, q in points.items() if other != name):
            front.add(name)
    return front


class Metrics(TempCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t = cls.tmp
        cls.cfg = lambda_study(t, GRID)
        cls.out = os.path.join(t, "out")
        run(2, "sweep", cls.cfg, "--out-dir", cls.out, "--quiet", expect=0)
        cls.scorer = write(os.path.join(t, "scorer.py"), SCORER)
        cls.cmd = "%s %s {lambda}" % (sys.executable, shlex.quote(cls.scorer))
        # Hand-made records for refine and plot, in a second folder of the
        # same study.
        cls.hand = os.path.join(t, "hand")
        run(2, "sweep", cls.cfg, "--out-dir", cls.hand, "--quiet", expect=0)
        write_scores(cls.hand, "acc", ACC)
        write_scores(cls.hand, "tokens", TOKENS)

    def records(self, folder, metric):
        out = {}
        for p in manifest(folder)["points"]:
            path = os.path.join(folder, "eval", metric, "point-%d.json" % p["point"])
            if os.path.exists(path):
                with open(path) as f:
                    out[p["values"]["lambda"]] = json.load(f)
        return out

    # ---- eval ----

    def test_eval_several_metrics(self):
        out = self.out
        fail = write(os.path.join(self.tmp, "FAIL_0.5"), "")
        p = run(None, "eval", out, "--cmd", self.cmd, "--metric", "acc,tokens",
                 "--metric", "think=think.rate", "--jobs", "2", expect=None)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("1 of 7 evaluations failed", p.stderr)
        for metric, table in (("acc", ACC), ("tokens", TOKENS), ("think", THINK)):
            rec = self.records(out, metric)
            self.assertEqual(sorted(rec), sorted(GRID))
            for lam in GRID:
                if lam == "0.5":
                    self.assertEqual(rec[lam]["status"], "failed")
                    self.assertIn("exit status 4", rec[lam]["error"])
                else:
                    self.assertEqual(rec[lam]["status"], "ok")
                    self.assertEqual(rec[lam]["score"], table[lam])
        # The command ran once per point: its output sits with the first metric.
        self.assertTrue(os.path.exists(os.path.join(out, "eval", "acc", "point-0.out")))
        self.assertFalse(os.path.exists(os.path.join(out, "eval", "tokens", "point-0.out")))
        # A rerun retries only the failed point, and it now succeeds.
        os.remove(fail)
        p = run(None, "eval", out, "--cmd", self.cmd, "--metric", "acc,tokens",
                 "--metric", "think=think.rate", expect=0)
        self.assertIn("1 scored, 0 failed, 6 already scored", p.stdout)
        # Losing one metric's record reruns that point only.
        os.remove(os.path.join(out, "eval", "tokens", "point-6.json"))
        p = run(None, "eval", out, "--cmd", self.cmd, "--metric", "acc,tokens,think=think.rate", expect=0)
        self.assertIn("1 scored, 0 failed, 6 already scored", p.stdout)
        # results.csv: one row per point and metric.
        with open(os.path.join(out, "results.csv")) as f:
            rows = [r for r in csv.DictReader(f) if r["metric"] in ("acc", "tokens", "think")]
        self.assertEqual(len(rows), 3 * len(GRID))
        # manifest.json and manifest.csv carry every metric.
        m = manifest(out)
        self.assertTrue({"acc", "think", "tokens"} <= set(m["metrics"]))
        for p in m["points"]:
            lam = p["values"]["lambda"]
            scores = {k: v for k, v in p["scores"].items() if k in ("acc", "tokens", "think")}
            self.assertEqual(scores, {"acc": ACC[lam], "tokens": TOKENS[lam],
                                      "think": THINK[lam]})
        with open(os.path.join(out, "manifest.csv")) as f:
            rows = {r["lambda"]: r for r in csv.DictReader(f)}
        for lam in GRID:
            self.assertEqual(float(rows[lam]["acc"]), ACC[lam])
            self.assertEqual(float(rows[lam]["tokens"]), TOKENS[lam])
            self.assertEqual(rows[lam]["status"], "done")
        # A missing key fails that metric (and the point), not the others.
        p = run(None, "eval", out, "--cmd", self.cmd, "--metric", "acc,nokey", "--point", "1", expect=None)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no number at key 'nokey'", p.stdout)
        self.assertEqual(self.records(out, "nokey")["0.2"]["status"], "failed")

    def test_eval_json_all(self):
        out = self.out
        run(None, "eval", out, "--cmd", self.cmd, "--json-all", "--point", "3", "--force", expect=0)
        names = {"acc", "tokens", "think.rate", "lm.exact_match_strict-match",
                 "per_task.0", "per_task.1"}
        for name in names:
            rec = self.records(out, name)
            self.assertEqual(rec["0.5"]["status"], "ok", name)
        self.assertEqual(self.records(out, "lm.exact_match_strict-match")["0.5"]["score"],
                         ACC["0.5"])
        self.assertEqual(self.records(out, "think.rate")["0.5"]["score"], THINK["0.5"])
        self.assertFalse(os.path.exists(os.path.join(out, "eval", "model")))
        self.assertFalse(os.path.exists(os.path.join(out, "eval", "ok")))
        # The run is recorded; a second run skips the point.
        p = run(None, "eval", out, "--cmd", self.cmd, "--json-all", "--point", "3", expect=0)
        self.assertIn("0 scored, 0 failed", p.stdout)
        m = manifest(out)
        self.assertTrue(names <= set(m["metrics"]))

    def test_eval_usage(self):
        for args, why in ((["--json-all", "--metric", "a"], "--json-all reads every number"),
                          (["--metric", "a,b", "--json-key", "x"], "one metric only"),
                          (["--metric", "a,a"], "names 'a' twice"),
                          (["--metric", "a,,b"], "--metric takes names")):
            p = run(None, "eval", self.out, "--cmd", "true", *args, expect=None)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertIn(why, p.stderr)

    # ---- refine ----

    def proposed(self, *args):
        new = os.path.join(self.tmp, "new.yaml")
        p = run(None, "refine", self.hand, "--out", new, *list(args), expect=0)
        self.assertIn("wrote " + new, p.stdout)
        dry = run(1, "sweep", new, "--out-dir", self.hand, "--dry-run", expect=0)
        return re.findall(r"point \d+: lambda=(\S+)", dry.stdout), p.stdout

    def test_refine_best_with_constraint(self):
        # Unconstrained the best accuracy is at 0.8; with tokens <= 900 at 0.6 (the
        # bound itself counts).
        self.assertEqual(self.proposed("--metric", "acc", "--points", "2")[0], ["0.7", "0.9"])
        vals, out = self.proposed("--metric", "acc", "--where", "tokens<=900", "--points", "2")
        self.assertEqual(vals, ["0.55", "0.7"])
        self.assertIn("best acc = 0.7 at lambda = 0.6", out)
        # Strict and several constraints: tokens < 900 and acc >= 0.5 leave 0.4, 0.5.
        vals, _ = self.proposed("--maximize", "acc", "--where", "tokens<900", "--where",
                                "acc>=0.5", "--points", "2")
        self.assertEqual(vals, ["0.45", "0.55"])
        # Lowest tokens among accuracy >= 0.7: 0.6 (900).
        vals, _ = self.proposed("--minimize", "tokens", "--where", "acc>=0.7", "--points", "2")
        self.assertEqual(vals, ["0.55", "0.7"])

    def test_refine_pareto(self):
        pts = {lam: (ACC[lam], TOKENS[lam]) for lam in GRID}
        self.assertEqual(reference_front(pts, (1, -1)), {"0", "0.4", "0.5", "0.6", "0.8"})
        # One value between each pair of neighbours on the front; 0.2 (between
        # 0 and 0.4) is in the folder already.
        vals, out = self.proposed("--around", "pareto", "--maximize", "acc", "--minimize",
                                  "tokens")
        self.assertEqual(vals, ["0.45", "0.55", "0.7"])
        self.assertIn("Pareto front of max acc, min tokens at lambda = 0 0.4 0.5 0.6 0.8", out)
        vals, _ = self.proposed("--around", "pareto", "--maximize", "acc", "--minimize",
                                "tokens", "--where", "tokens<=1000", "--points", "3")
        self.assertEqual(vals, ["0.1", "0.3", "0.425", "0.45", "0.475", "0.525", "0.55",
                                "0.575"])
        # Directions matter: maximizing both, tokens grow with lambda up to 1,
        # and accuracy peaks at 0.8: the front is 0.8 and 1.
        self.assertEqual(reference_front(pts, (1, 1)), {"0.8", "1"})
        vals, _ = self.proposed("--around", "pareto", "--maximize", "acc", "--maximize",
                                "tokens")
        self.assertEqual(vals, ["0.9"])
        p = run(None, "refine", self.hand, "--around", "pareto", "--maximize", "acc", expect=None)
        self.assertEqual(p.returncode, 2)

    def test_refine_steepest_on_any_metric(self):
        # tokens change fastest between 0.8 and 1 (1000 per 0.2).
        self.assertEqual(self.proposed("--metric", "tokens", "--around", "steepest",
                                       "--points", "1")[0], ["0.9"])
        # acc: 0.2 -> 0.4 gains 0.22 per 0.2 = 1.1; 0.4 -> 0.5 1.2 per unit: steepest.
        self.assertEqual(self.proposed("--metric", "acc", "--around", "steepest",
                                       "--points", "1")[0], ["0.45"])

    def test_refine_errors(self):
        p = run(None, "refine", self.hand, "--metric", "acc", "--where", "tokens<<3", expect=None)
        self.assertIn("--where takes METRIC<=V", p.stderr)
        p = run(None, "refine", self.hand, "--metric", "acc", "--where", "speed<=3", expect=None)
        self.assertIn("no scores for metric 'speed'", p.stderr)
        p = run(None, "refine", self.hand, "--metric", "acc", "--where", "tokens<=10", expect=None)
        self.assertIn("no scored point", p.stderr)

    # ---- plot ----

    def test_plot_panels(self):
        svg_path = os.path.join(self.tmp, "panels.svg")
        run(None, "plot", self.hand, "--metric", "acc,tokens", "--out", svg_path, expect=0)
        with open(svg_path) as f:
            svg = f.read()
        self.assertEqual(svg.count("<circle"), 2 * len(GRID))
        self.assertEqual(svg.count("<polyline"), 2)
        # Each panel has its own y range: the tokens panel's top tick is
        # above 2500, the acc panel's below 1.
        ticks = [float(t) for t in re.findall(r'text-anchor="end">([-0-9.e+]+)<', svg)]
        self.assertTrue(max(ticks[:6]) < 1 and max(ticks[6:]) > 2500, ticks)

    def test_plot_metric_against_metric(self):
        svg_path = os.path.join(self.tmp, "front.svg")
        p = run(None, "plot", self.hand, "--x", "tokens", "--y", "acc", "--out", svg_path, expect=0)
        with open(svg_path) as f:
            svg = f.read()
        front = set(re.findall(r'<circle class="front"[^>]*><title>([^:]+):', svg))
        others = set(re.findall(r'<circle class="point"[^>]*><title>([^:]+):', svg))
        self.assertEqual(front, {"0", "0.4", "0.5", "0.6", "0.8"})
        self.assertEqual(others, {"0.2", "1"})
        labels = re.findall(r'<text class="label"[^>]*>([^<]+)<', svg)
        self.assertEqual(sorted(labels), sorted(GRID))
        # The front's line runs through its points by increasing tokens.
        line = re.search(r'<polyline class="front"[^>]*points="([^"]*)"', svg).group(1)
        xs = [float(xy.split(",")[0]) for xy in line.split()]
        self.assertEqual(len(xs), 5)
        self.assertEqual(xs, sorted(xs))
        self.assertIn("plot: " + svg_path, p.stdout)
        # Reversed directions give the other front.
        run(None, "plot", self.hand, "--x", "tokens", "--y", "acc", "--maximize", "tokens",
             "--out", svg_path, expect=0)
        with open(svg_path) as f:
            front = set(re.findall(r'<circle class="front"[^>]*><title>([^:]+):', f.read()))
        self.assertEqual(front, {"0.8", "1"})

    def test_plot_png(self):
        """A stand-in rsvg-convert records its arguments and writes the PNG;
        without any converter on PATH the plot says so and writes the SVG."""
        bin_dir = os.path.join(self.tmp, "conv-bin")
        os.makedirs(bin_dir, exist_ok=True)
        log = os.path.join(self.tmp, "rsvg.log")
        write(os.path.join(bin_dir, "rsvg-convert"),
              '#!/bin/sh\necho "$@" > "%s"\nprintf PNG > "$2"\n' % log)
        os.chmod(os.path.join(bin_dir, "rsvg-convert"), 0o755)
        svg_path = os.path.join(self.tmp, "pic.svg")
        env = dict(ENV, PATH=bin_dir + os.pathsep + ENV["PATH"])
        p = run(None, "plot", self.hand, "--out", svg_path, expect=0, env=env)
        png = os.path.join(self.tmp, "pic.png")
        self.assertIn("plot: %s (by rsvg-convert)" % png, p.stdout)
        with open(png) as f:
            self.assertEqual(f.read(), "PNG")
        with open(log) as f:
            self.assertEqual(f.read().split(), ["-o", png + ".tmp.png", svg_path])
        # No converter at all: PATH holds every program but the converters.
        os.remove(png)
        bare_bin = os.path.join(self.tmp, "bare-bin")
        os.makedirs(bare_bin, exist_ok=True)
        for d in ENV["PATH"].split(os.pathsep):
            for name in os.listdir(d) if os.path.isdir(d) else []:
                link = os.path.join(bare_bin, name)
                if name not in ("rsvg-convert", "convert") and not os.path.lexists(link):
                    os.symlink(os.path.join(d, name), link)
        bare = dict(ENV, PATH=bare_bin)
        p = subprocess.run([BIN, "plot", self.hand, "--out", svg_path], capture_output=True,
                           text=True, env=bare, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("no PNG (neither rsvg-convert nor ImageMagick's convert", p.stdout)
        self.assertFalse(os.path.exists(png))

    def test_sweep_keeps_scores_in_manifest(self):
        # Refining into the folder rewrites the manifest: the scores stay.
        new = os.path.join(self.tmp, "grow.yaml")
        run(None, "refine", self.hand, "--metric", "acc", "--points", "1", "--out", new, expect=0)
        run(2, "sweep", new, "--out-dir", self.hand, "--quiet", expect=0)
        m = manifest(self.hand)
        by_lam = {p["values"]["lambda"]: p for p in m["points"]}
        self.assertEqual(by_lam["0.6"]["scores"], {"acc": 0.7, "tokens": 900})
        self.assertEqual(by_lam[m["points"][-1]["values"]["lambda"]]["scores"], {})


if __name__ == "__main__":
    unittest.main()
