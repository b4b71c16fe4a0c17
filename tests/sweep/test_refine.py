"""mpiblend refine on hand-made scores: around the best point, around the
steepest change, lower-is-better, skipping values already in the folder;
the new config sweeps into the same folder."""
import os
import re
import unittest

from mpbtest import run
from sweeptest import lambda_study, TempCase, manifest, write_scores

GRID = ["0", "0.2", "0.4", "0.45", "0.5", "0.55", "0.6", "0.7", "0.8", "1"]
# 0.7 is written but has no score: refine must not propose it again.
SCORES = {"0": 0.1, "0.2": 0.12, "0.4": 0.15, "0.45": 0.6, "0.5": 0.7, "0.55": 0.8,
          "0.6": 0.9, "0.8": 0.85, "1": 0.5}


class Refine(TempCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cfg = lambda_study(cls.tmp, GRID)
        cls.out = os.path.join(cls.tmp, "out")
        run(2, "sweep", cls.cfg, "--out-dir", cls.out, "--quiet", expect=0)
        write_scores(cls.out, "acc", SCORES)  # the hand-made results

    def proposed(self, *args):
        new = os.path.join(self.tmp, "new.yaml")
        p = run(None, "refine", self.out, "--metric", "acc", "--out", new, *list(args), expect=0)
        self.assertIn("wrote " + new, p.stdout)
        dry = run(1, "sweep", new, "--out-dir", self.out, "--dry-run", expect=0)
        return re.findall(r"point \d+: lambda=(\S+)", dry.stdout)

    def test_around_best_skips_known_values(self):
        # Best 0.6; neighbours 0.55 and 0.8 (0.7 unscored but written).
        self.assertEqual(self.proposed("--points", "2"), ["0.575"])

    def test_around_steepest(self):
        # The largest change per unit of lambda is from 0.4 to 0.45.
        self.assertEqual(self.proposed("--around", "steepest", "--points", "4"),
                         ["0.41", "0.42", "0.43", "0.44"])

    def test_goal_min_at_the_end_of_the_grid(self):
        self.assertEqual(self.proposed("--goal", "min", "--points", "1"), ["0.1"])

    def test_refined_config_extends_the_same_folder(self):
        new = os.path.join(self.tmp, "grow.yaml")
        run(None, "refine", self.out, "--metric", "acc", "--out", new, "--points", "2", expect=0)
        p = run(2, "sweep", new, "--out-dir", self.out, "--quiet", expect=0)
        self.assertIn("1 points, 0 complete, 1 to write", p.stdout)
        paths = [q["path"] for q in manifest(self.out)["points"]]
        self.assertEqual(paths[-1], "mi-0.575.h5")
        self.assertEqual(len(paths), len(GRID) + 1)

    def test_needs_scores(self):
        p = run(None, "refine", self.out, "--metric", "nothing", expect=None)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no scores for metric 'nothing'", p.stderr)


if __name__ == "__main__":
    unittest.main()
