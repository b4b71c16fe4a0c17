"""Inputs stored every way HDF5 allows, written by h5py rather than by
mpiblend: contiguous, chunked, gzip-compressed, compact, never written
(read as the fill value), behind a 4 KiB user block, and reached by a soft
link.  Contiguous tensors are read where their bytes lie; the others go
through HDF5.  Every merge -- 1 to 3 ranks, both transfer modes, slabs that
split tensors -- must equal the numpy reference bit for bit, and the
output must hold exactly the datasets of the inputs (a soft link is not a
tensor)."""
import os
import sys

import h5py
import numpy as np

import mpbtest

work = os.path.join(sys.argv[1], "layouts")
os.makedirs(work, exist_ok=True)


def write_input(path, seed, userblock):
    rng = np.random.default_rng(seed)
    kw = {"userblock_size": 4096} if userblock else {}
    with h5py.File(path, "w", **kw) as f:
        f.create_dataset("contiguous", data=rng.standard_normal((300, 64), np.float32))
        f.create_dataset("chunked", data=rng.standard_normal((257, 33), np.float32),
                         chunks=(16, 33))
        f.create_dataset("gzip", data=rng.standard_normal((128, 40)).astype(np.float16),
                         chunks=(32, 40), compression="gzip")
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)  # h5py 3.7 has no layout=
        dcpl.set_layout(h5py.h5d.COMPACT)
        compact = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE,
                                  h5py.h5s.create_simple((4, 5)), dcpl=dcpl)
        compact.write(h5py.h5s.ALL, h5py.h5s.ALL, rng.standard_normal((4, 5), np.float32))
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_LATE)
        dcpl.set_fill_value(np.array(0.25 * seed, np.float32))
        h5py.h5d.create(f.id, b"unwritten", h5py.h5t.IEEE_F32LE, h5py.h5s.create_simple((96, 8)),
                        dcpl=dcpl)
        f.create_dataset("scalar", data=np.float32(seed))
        f["alias"] = h5py.SoftLink("/contiguous")


a, b = os.path.join(work, "a.h5"), os.path.join(work, "b.h5")
write_input(a, 1, userblock=True)
write_input(b, 2, userblock=False)
with h5py.File(a, "r") as f:
    assert f.userblock_size == 4096
    # HDF5 1.10.8 reports an unallocated dataset's offset as HADDR_UNDEF plus
    # the user block (4095 here), so the storage size is what shows it.
    assert f["unwritten"].id.get_storage_size() == 0, "h5py allocated the unwritten dataset"
    assert f["compact"].id.get_create_plist().get_layout() == h5py.h5d.COMPACT

lam = 0.3
cfg = os.path.join(work, "layouts.yaml")
with open(cfg, "w") as f:
    f.write(f"merge_method: interpolate\nmodels:\n  - model: {a}\n  - model: {b}\n"
            f"parameters:\n  lambda: {lam}\n")

names = ["chunked", "compact", "contiguous", "gzip", "scalar", "unwritten"]
want = {n: mpbtest.linear_reference([a, b], [1 - lam, lam], n) for n in names}
cases = 0
for ranks in (1, 2, 3):
    for io in ("independent", "collective", "aggregated"):
        # aggregated: collective rounds through the MPI-IO library's collective
        # call, which mpiblend skips by default when every rank shares a node
        io_args = ("--io", "collective", "--aggregate", "on") if io == "aggregated" else ("--io", io)
        for slab in ("1", "4096"):
            out = os.path.join(work, f"out_{ranks}_{io}_{slab}.h5")
            mpbtest.run(ranks, "merge", cfg, "--out", out, *io_args, "--slab-kib", slab,
                        "--force", "--quiet", expect=0)
            assert mpbtest.tensor_names(out) == names, mpbtest.tensor_names(out)
            for n in names:
                bits, kind = mpbtest.raw_bits(out, n)
                ref_bits, ref_kind = want[n]
                assert kind == ref_kind and np.array_equal(bits, ref_bits), \
                    f"{out}: tensor {n} differs from numpy ({ranks} ranks, {io}, {slab} KiB)"
            cases += 1
print(f"layouts: ok ({cases} merges of 6 storage layouts equal numpy)")
