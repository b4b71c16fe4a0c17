"""Peer 1: the serial h5py + numpy script a user would write.

One process, a loop over tensors: read both inputs whole (raw bf16 bits, see
peer_bf16.py), blend in float32, write the tensor to a new HDF5 file.

usage: python3 peer_serial.py A.h5 B.h5 OUT.h5 [--lam 0.5]
"""
import h5py

from peer_bf16 import blend_bits, create_like, parse_args, read_raw, tensor_names, write_raw


def main():
    args = parse_args(__doc__)
    with h5py.File(args.a, "r") as fa, h5py.File(args.b, "r") as fb, \
            h5py.File(args.out, "w") as fo:
        for name in tensor_names(fa):
            a = read_raw(h5py, fa[name])
            b = read_raw(h5py, fb[name])
            write_raw(h5py, create_like(h5py, fo, fa[name], name), blend_bits(a, b, args.lam))


if __name__ == "__main__":
    main()
