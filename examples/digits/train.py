"""Two small classifiers from one shared initialization, trained on two
tasks of scikit-learn's digits data (the 8x8 images Debian's python3-sklearn
ships): task A is digits 0-4, task B digits 5-9.  Both are 64-32-10 MLPs with
one 10-way head, saved as mpiblend HDF5 checkpoints (one float32 dataset per
tensor at the root), plus the held-out test images for evaluate.py."""
import sys

import h5py
import numpy as np
from sklearn.datasets import load_digits

rng = np.random.default_rng(0)
digits = load_digits()
x = (digits.data / 16.0).astype(np.float32)
y = digits.target
order = rng.permutation(len(y))
x, y = x[order], y[order]
n_test = len(y) // 4
x_test, y_test, x_train, y_train = x[:n_test], y[:n_test], x[n_test:], y[n_test:]
np.savez("data.npz", x=x_test, y=y_test)

hidden = 32
init = {"fc1.weight": rng.normal(0, (2 / 64) ** 0.5, (hidden, 64)).astype(np.float32),
        "fc1.bias": np.zeros(hidden, np.float32),
        "fc2.weight": rng.normal(0, (1 / hidden) ** 0.5, (10, hidden)).astype(np.float32),
        "fc2.bias": np.zeros(10, np.float32)}


def train(mask, steps=400, lr=0.5):
    p = {k: v.copy() for k, v in init.items()}
    xs, ys = x_train[mask], y_train[mask]
    onehot = np.eye(10, dtype=np.float32)[ys]
    for _ in range(steps):
        h = np.maximum(xs @ p["fc1.weight"].T + p["fc1.bias"], 0)
        logits = h @ p["fc2.weight"].T + p["fc2.bias"]
        prob = np.exp(logits - logits.max(1, keepdims=True))
        prob /= prob.sum(1, keepdims=True)
        g = (prob - onehot) / len(ys)
        gh = (g @ p["fc2.weight"]) * (h > 0)
        p["fc2.weight"] -= lr * g.T @ h
        p["fc2.bias"] -= lr * g.sum(0)
        p["fc1.weight"] -= lr * gh.T @ xs
        p["fc1.bias"] -= lr * gh.sum(0)
    return p


for name, mask in [("A.h5", y_train < 5), ("B.h5", y_train >= 5)]:
    params = train(mask)
    with h5py.File(name, "w") as f:
        for k, v in params.items():
            f[k] = v.astype(np.float32)
    print("trained", name, file=sys.stderr)
