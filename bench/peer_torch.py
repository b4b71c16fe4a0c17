"""Peer 3: the interpolation paper's approach, whole state dicts in torch.

Loads every tensor of both inputs into memory as torch bf16 tensors (raw
bits, see peer_bf16.py), computes lam * B + (1 - lam) * A for every tensor
in bf16 arithmetic, as the paper's script does, then writes every tensor.
Peak memory is about three checkpoints.

usage: python3 peer_torch.py A.h5 B.h5 OUT.h5 [--lam 0.5]
"""
import h5py
import numpy as np
import torch

from peer_bf16 import create_like, parse_args, read_raw, tensor_names, write_raw


def load_state_dict(path):
    with h5py.File(path, "r") as f:
        return {n: torch.from_numpy(read_raw(h5py, f[n]).view(np.int16)).view(torch.bfloat16)
                for n in tensor_names(f)}


def main():
    args = parse_args(__doc__)
    sd_a = load_state_dict(args.a)
    sd_b = load_state_dict(args.b)
    merged = {n: args.lam * sd_b[n] + (1.0 - args.lam) * sd_a[n] for n in sd_a}
    with h5py.File(args.a, "r") as fa, h5py.File(args.out, "w") as fo:
        for name, t in merged.items():
            bits = t.view(torch.int16).numpy().view(np.uint16)
            write_raw(h5py, create_like(h5py, fo, fa[name], name), bits)


if __name__ == "__main__":
    main()
