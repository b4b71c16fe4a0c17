"""Accuracy of one checkpoint on both tasks, printed as JSON:
task_a (digits 0-4, argmax over their 5 logits), task_b (5-9, likewise) and
all (every test digit, argmax over all 10 logits)."""
import json
import os
import sys

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
data = np.load(os.path.join(here, "data.npz"))
x, y = data["x"], data["y"]
with h5py.File(sys.argv[1], "r") as f:
    p = {k: f[k][()] for k in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")}
logits = np.maximum(x @ p["fc1.weight"].T + p["fc1.bias"], 0) @ p["fc2.weight"].T + p["fc2.bias"]
a, b = y < 5, y >= 5
print(json.dumps({
    "task_a": float((logits[a][:, :5].argmax(1) == y[a]).mean()),
    "task_b": float((logits[b][:, 5:].argmax(1) + 5 == y[b]).mean()),
    "all": float((logits.argmax(1) == y).mean())}))
