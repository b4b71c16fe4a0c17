"""Peer for the methods suite: mergekit's published TIES and DARE, per tensor, in torch.

What a mergekit user's CPU run does, written from mergekit's algorithm
(docs/METHODS.md lists where mpiblend differs): one tensor at a time, read
the base and every model (raw bf16 bits, see peer_bf16.py), compute in the
checkpoint's dtype (bf16, mergekit's default without `dtype:`), write the
result.  Per tensor:

  delta_i = x_i - base
  ties:      keep the k = int(density * n) largest |delta_i| (a descending
             argsort of |delta_i| in float32), no rescale
  dare_ties: keep each element with probability density (torch.bernoulli),
             rescale the kept deltas by sum|delta_i| / sum|kept| (l1)
  weighted_i = delta_i * weight_i
  sign election: s = sign(sum_i weighted_i) (>= 0 counts as +); element i
             counts when sign(weighted_i) == s; M = sum of those,
             D = sum of their weights (0 becomes 1)
  ties normalises (M / D, its default); dare_ties does not
  out = base + M, in bf16

usage: python3 peer_mergekit_torch.py {ties,dare_ties} BASE.h5 A.h5 B.h5 OUT.h5
           [--weight W] [--density D] [--seed S]
"""
import argparse

import h5py
import numpy as np
import torch

from peer_bf16 import create_like, read_raw, tensor_names, write_raw


def load(f, name):
    return torch.from_numpy(read_raw(h5py, f[name]).view(np.int16)).view(torch.bfloat16)


def magnitude(delta, density):
    if density >= 1:
        return delta
    k = int(density * delta.numel())
    if k <= 0:
        raise SystemExit("peer: density keeps no element of a tensor (mergekit stops too)")
    mask = torch.zeros_like(delta)
    order = torch.argsort(delta.abs().view(-1).float(), descending=True)[:k]
    mask.view(-1)[order] = 1
    return delta * mask


def bernoulli_l1(delta, density):
    if density >= 1:
        return delta
    mask = torch.bernoulli(torch.full_like(delta, density))
    kept = delta * mask
    before, after = delta.abs().sum(), kept.abs().sum()
    if before < 1e-7 or after < 1e-7:
        return kept
    return kept * (before / after)


def merge_tensor(method, base, models, weight, density):
    sparsify = magnitude if method == "ties" else bernoulli_l1
    deltas = torch.stack([sparsify(x - base, density) for x in models])
    weights = torch.full((len(models),) + (1,) * base.dim(), weight, dtype=base.dtype)
    weighted = deltas * weights
    majority = (weighted.sum(dim=0) >= 0).to(base.dtype) * 2 - 1
    elected = weighted.sign() == majority
    mixed = (weighted * elected).sum(dim=0)
    if method == "ties":
        divisor = (weights * elected).sum(dim=0)
        divisor[divisor == 0] = 1
        mixed = mixed / divisor
    return (base + mixed).to(base.dtype)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("method", choices=("ties", "dare_ties"))
    ap.add_argument("base")
    ap.add_argument("models", nargs="+", help="the models, then the output")
    ap.add_argument("--weight", type=float, default=0.5)
    ap.add_argument("--density", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if len(args.models) < 2:
        ap.error("give at least one model and the output")
    *model_paths, out_path = args.models
    torch.manual_seed(args.seed)
    with h5py.File(args.base, "r") as fb, h5py.File(out_path, "w") as fo:
        fms = [h5py.File(p, "r") for p in model_paths]
        for name in tensor_names(fb):
            base = load(fb, name)
            merged = merge_tensor(args.method, base, [load(f, name) for f in fms],
                                  args.weight, args.density)
            bits = merged.contiguous().view(torch.int16).numpy().view(np.uint16)
            write_raw(h5py, create_like(h5py, fo, fb[name], name), bits)
        for f in fms:
            f.close()


if __name__ == "__main__":
    main()
