"""Accuracy against lambda from DIR/results.csv, as DIR/accuracy.png."""
import csv
import os
import sys
from collections import defaultdict

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

folder = sys.argv[1]
series = defaultdict(list)
with open(os.path.join(folder, "results.csv")) as f:
    for row in csv.DictReader(f):
        if row["status"] == "ok":
            series[row["metric"]].append((float(row["lambda"]), float(row["score"])))
fig, ax = plt.subplots(figsize=(7, 4.2))
labels = {"task_a": "task A (digits 0-4)", "task_b": "task B (digits 5-9)",
          "all": "all ten digits"}
for metric, points in sorted(series.items()):
    points.sort()
    ax.plot([p[0] for p in points], [p[1] for p in points], "o-",
            label=labels.get(metric, metric))
ax.set_xlabel("lambda  (0 = model A, 1 = model B)")
ax.set_ylabel("test accuracy")
ax.set_title("Interpolating two digit classifiers with mpiblend sweep")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
out = os.path.join(folder, "accuracy.png")
fig.savefig(out, dpi=110)
print("wrote", out)
