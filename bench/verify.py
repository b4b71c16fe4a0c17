"""Compares the tensors of two HDF5 checkpoints bit for bit.

Prints one line: identical, or how many elements differ (and in how many
tensors).  Exit status 0 when the same tensors exist in both with the same
shapes, whether or not bits differ; 1 otherwise.

usage: python3 verify.py REFERENCE.h5 OTHER.h5
"""
import sys

import h5py
import numpy as np

from peer_bf16 import read_raw, tensor_names


def main():
    ref_path, other_path = sys.argv[1:3]
    differing = tensors = elements = 0
    with h5py.File(ref_path, "r") as fr, h5py.File(other_path, "r") as fo:
        names = tensor_names(fr)
        if sorted(names) != sorted(tensor_names(fo)):
            print(f"verify: {other_path}: tensor names differ from {ref_path}")
            return 1
        for name in names:
            if fr[name].shape != fo[name].shape:
                print(f"verify: {other_path}: {name} has shape {fo[name].shape}, "
                      f"not {fr[name].shape}")
                return 1
            d = int(np.count_nonzero(read_raw(h5py, fr[name]) != read_raw(h5py, fo[name])))
            differing += d
            tensors += d > 0
            elements += fr[name].size
    if differing == 0:
        print(f"verify: {other_path}: identical to {ref_path} ({elements} elements)")
    else:
        print(f"verify: {other_path}: {differing} of {elements} elements "
              f"({100.0 * differing / elements:.2f}%) differ, in {tensors} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
