"""examples/reasoning/run.sh --quick end to end: a tiny Qwen3-style model
trained into instruct and thinking variants, swept from its Hugging Face
folders, every point scored by generation, refined on the Pareto front and
plotted.  Checks what must hold however briefly it trained: the thinking
end closes </think> and writes longer answers than the instruct end, every
point has all three metrics, refine added points, the plots exist."""
import os
import re
import subprocess
import tempfile
import unittest

from sweeptest import BIN, ENV, SOURCE, manifest


class Reasoning(unittest.TestCase):
    def test_quick_run(self):
        out = os.path.join(os.environ.get("MPB_WORK_DIR", tempfile.mkdtemp()), "reasoning")
        p = subprocess.run(["bash", os.path.join(SOURCE, "examples", "reasoning", "run.sh"),
                            "--quick", "--out", out], capture_output=True, text=True,
                           env=dict(ENV, MPIBLEND=BIN), timeout=1500)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])
        points = manifest(os.path.join(out, "sweep"))["points"]
        self.assertGreater(len(points), 11)  # the grid, then refined points
        by_lam = {}
        for q in points:
            self.assertEqual(q["status"], "done")
            self.assertEqual(set(q["scores"]), {"acc", "tokens", "think"}, q)
            by_lam[float(q["values"]["lambda"])] = q["scores"]
        self.assertEqual(by_lam[0.0]["think"], 0.0)
        self.assertGreaterEqual(by_lam[1.0]["think"], 0.9)
        self.assertGreater(by_lam[1.0]["tokens"], 2 * by_lam[0.0]["tokens"])
        with open(os.path.join(out, "accuracy-vs-tokens.svg")) as f:
            svg = f.read()
        self.assertEqual(len(re.findall(r"<circle class=\"(front|point)\"", svg)), len(points))
        self.assertTrue(os.path.exists(os.path.join(out, "metrics-vs-lambda.svg")))
        self.assertIn("refine: Pareto front of max acc, min tokens", p.stdout)


if __name__ == "__main__":
    unittest.main()
