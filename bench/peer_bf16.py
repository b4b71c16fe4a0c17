"""What the Python peers share: raw bf16 transfers with h5py and the blend.

Raw bits, no HDF5 conversion: h5py reads a bf16 dataset as float32, and
reading into a uint16 array would convert by value.  Both are avoided by
passing the dataset's own file type as the memory type to the low-level
DatasetID.read/write: with the same type on both sides HDF5 copies bytes, and
the numpy buffer only has to be the right size (uint16 for 2-byte types).

The blend is (1 - lam) * a + lam * b in float32, each operation rounded, then
rounded to bf16 to nearest, ties to even: the arithmetic mpiblend uses
(docs/ARITHMETIC.md), so the peers' outputs can be compared bit for bit.
Inputs are assumed finite (synthetic weights are); a NaN guard would only
slow the peers down.

The functions take the h5py module as an argument because Debian installs
two builds: the MPI peer passes h5py._debian_h5py_mpi, the others plain h5py.
"""
import argparse

import numpy as np

BF16_SIZE = 2


def parse_args(doc, collective_flag=False):
    """A peer's command line: A.h5 B.h5 OUT.h5 [--lam L] [--collective]."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("out")
    ap.add_argument("--lam", type=float, default=0.5)
    if collective_flag:
        ap.add_argument("--collective", action="store_true")
    return ap.parse_args()


def tensor_names(f):
    """Every dataset at the root of an open h5py File, in file order."""
    return [name for name, obj in f.items() if hasattr(obj, "shape")]


def read_raw(h5py, dset, sel=None, dxpl=None):
    """Rows sel = (row0, nrows) of dset (all when None) as uint16 bits."""
    ftype = dset.id.get_type()
    if ftype.get_size() != BF16_SIZE:
        raise SystemExit(f"{dset.name}: the peers handle 2-byte types only")
    shape = dset.shape
    if sel is None:
        arr = np.empty(shape, np.uint16)
        dset.id.read(h5py.h5s.ALL, h5py.h5s.ALL, arr, mtype=ftype, dxpl=dxpl)
        return arr
    fspace, mspace, arr = _row_spaces(h5py, dset.id.get_space(), shape, sel)
    dset.id.read(mspace, fspace, arr, mtype=ftype, dxpl=dxpl)
    return arr


def write_raw(h5py, dset, arr, sel=None, dxpl=None):
    """Writes uint16 bits arr to rows sel = (row0, nrows) of dset (all when None)."""
    ftype = dset.id.get_type()
    if sel is None:
        dset.id.write(h5py.h5s.ALL, h5py.h5s.ALL, arr, mtype=ftype, dxpl=dxpl)
        return
    fspace, mspace, _ = _row_spaces(h5py, dset.id.get_space(), dset.shape, sel)
    dset.id.write(mspace, fspace, arr, mtype=ftype, dxpl=dxpl)


def _row_spaces(h5py, fspace, shape, sel):
    """File and memory spaces, and the buffer, for rows (row0, nrows)."""
    row0, nrows = sel
    if nrows == 0:
        fspace.select_none()
        mspace = h5py.h5s.create_simple((1,))
        mspace.select_none()
        return fspace, mspace, np.empty((1,), np.uint16)
    count = (nrows,) + tuple(shape[1:])
    fspace.select_hyperslab((row0,) + (0,) * (len(shape) - 1), count)
    return fspace, h5py.h5s.create_simple(count), np.empty(count, np.uint16)


def create_like(h5py, out, src, name, dcpl=None):
    """A contiguous dataset in out with src's shape and (bf16) file type."""
    space = h5py.h5s.create_simple(src.shape) if src.shape else h5py.h5s.create(h5py.h5s.SCALAR)
    if dcpl is None:
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.CONTIGUOUS)
        dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
    did = h5py.h5d.create(out.id, name.encode(), src.id.get_type(), space, dcpl=dcpl)
    return h5py.Dataset(did)


def blend_bits(a_bits, b_bits, lam):
    """bf16 bits of (1 - lam) * a + lam * b, computed in float32, rounded to
    nearest even.  Works in place on a's and b's widened copies."""
    wa = np.float32(1.0 - lam)
    wb = np.float32(lam)
    a = a_bits.astype(np.uint32)
    a <<= 16
    b = b_bits.astype(np.uint32)
    b <<= 16
    af = a.view(np.float32)
    bf = b.view(np.float32)
    np.multiply(af, wa, out=af)
    np.multiply(bf, wb, out=bf)
    np.add(af, bf, out=af)
    # round to nearest even on the upper 16 bits
    np.right_shift(a, 16, out=b)
    np.bitwise_and(b, 1, out=b)
    b += 0x7FFF
    a += b
    a >>= 16
    return a.astype(np.uint16)
