"""Peer 2: mpi4py + h5py (the MPI build), each rank a row range of every tensor.

All ranks open the inputs and create the output with the mpio driver (every
dataset created collectively, in the same order); then, tensor by tensor,
rank r reads rows [n*r/P, n*(r+1)/P) of both inputs (raw bf16 bits, see
peer_bf16.py), blends in float32 and writes the same rows.  Transfers are
independent by default (faster here, so the peer is shown at its best);
--collective makes every rank take part in every read and write.

usage: mpirun -np P python3 peer_mpi4py.py A.h5 B.h5 OUT.h5 [--lam 0.5] [--collective]
"""
from mpi4py import MPI

# Debian ships h5py twice; under mpirun `import h5py` picks the MPI build, and
# this import names it explicitly so a serial launch cannot get the other one.
import h5py._debian_h5py_mpi as h5py

from peer_bf16 import blend_bits, create_like, parse_args, read_raw, tensor_names, write_raw


def main():
    args = parse_args(__doc__, collective_flag=True)
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    dxpl = h5py.h5p.create(h5py.h5p.DATASET_XFER)
    dxpl.set_dxpl_mpio(h5py.h5fd.MPIO_COLLECTIVE if args.collective
                       else h5py.h5fd.MPIO_INDEPENDENT)
    fa = h5py.File(args.a, "r", driver="mpio", comm=comm)
    fb = h5py.File(args.b, "r", driver="mpio", comm=comm)
    fo = h5py.File(args.out, "w", driver="mpio", comm=comm)
    names = tensor_names(fa)
    outs = [create_like(h5py, fo, fa[n], n) for n in names]
    for name, dout in zip(names, outs):
        da, db = fa[name], fb[name]
        if da.ndim == 0:
            raise SystemExit(f"{name}: 0-d tensors are not handled by this peer")
        n = da.shape[0]
        rows = (n * rank // size, n * (rank + 1) // size - n * rank // size)
        if rows[1] == 0 and not args.collective:
            continue
        a = read_raw(h5py, da, rows, dxpl)
        b = read_raw(h5py, db, rows, dxpl)
        write_raw(h5py, dout, blend_bits(a, b, args.lam), rows, dxpl)
    for f in (fa, fb, fo):
        f.close()


if __name__ == "__main__":
    main()
