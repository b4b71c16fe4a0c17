"""Import of every real-world file in the shared test data (SOURCES.md
there): each tensor of the HDF5 result is checked against the values
decoded here from the safetensors byte ranges (numpy.frombuffer), through
h5py's own decoding where h5py can decode the type and byte for byte
otherwise; then the import is exported again and must give back the
original tensor bytes."""
import os
import shutil
import sys

import h5py
import numpy as np

import interop

work = os.path.join(sys.argv[1], "testdata")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
root = os.path.join(os.environ["MPB_SHARED_TESTDATA"], "safetensors")
sources = {
    "sharded": os.path.join(root, "FluxML__SafeTensors.jl/test/sharded"),
    "mnist": os.path.join(root, "tracel-ai__burn/examples/import-model-weights/weights/mnist.safetensors"),
    "adapter100": os.path.join(root, "wyek1n__MLX-CLI/adapters/0000100_adapters.safetensors"),
    "adapter200": os.path.join(root, "wyek1n__MLX-CLI/adapters/0000200_adapters.safetensors"),
}


def check_values(name, dset, dtype, expected):
    """h5py's decoding of the HDF5 type against numpy's of the raw bytes."""
    t = dset.id.get_type()
    if dtype.startswith("F8"):  # opaque: h5py cannot decode, bytes compared below
        assert isinstance(t, h5py.h5t.TypeOpaqueID), name
        assert t.get_tag() == b"mpiblend:" + dtype.encode(), t.get_tag()
        return
    got = dset[()]
    if dtype == "BF16":
        assert isinstance(t, h5py.h5t.TypeFloatID) and t.get_size() == 2 and t.get_ebias() == 127
        bits = np.asarray(got, dtype=np.float32).view(np.uint32)
        assert np.array_equal(bits, expected.astype(np.uint32) << 16), name
    elif dtype == "BOOL":
        assert isinstance(t, h5py.h5t.TypeEnumID), name
        assert np.array_equal(np.asarray(got, dtype=np.uint8), expected.view(np.uint8)), name
    else:
        if dtype == "F16":
            assert t.get_size() == 2 and t.get_ebias() == 15, name
        assert np.asarray(got).dtype == expected.dtype, f"{name}: {np.asarray(got).dtype}"
        assert np.array_equal(np.asarray(got), expected, equal_nan=dtype.startswith("F")), name


seen_dtypes = set()
for i, (tag, src) in enumerate(sources.items()):
    ranks = 2 + i % 2
    h5 = os.path.join(work, f"{tag}.h5")
    interop.run(ranks, "import", src, h5, "--quiet", "--slab-kib", "1", expect=0)
    st = interop.st_tensors(src)
    with h5py.File(h5, "r") as f:
        names = sorted(k for k in f.keys() if isinstance(f[k], h5py.Dataset))
        assert names == sorted(st), f"{tag}: tensors differ"
        for name, (dtype, shape, data) in st.items():
            assert f[name].shape == shape, f"{tag} {name}: {f[name].shape} vs {shape}"
            check_values(name, f[name], dtype, interop.st_array(dtype, shape, data))
            seen_dtypes.add(dtype)
        if tag == "mnist":
            scalar = f["norm1.num_batches_tracked"]
            assert scalar.shape == () and scalar.dtype == np.int64
    interop.assert_same_model(src, h5)  # raw bytes, F8 included
    folder = os.path.join(work, f"{tag}_hf")
    interop.run(ranks, "export", h5, folder, "--quiet", "--shard-size", "1000", expect=0)
    interop.check_hf_folder(folder)
    assert interop.st_tensors(folder) == st, f"{tag}: export changed a tensor"

# What SOURCES.md says the files hold, so a silently skipped dtype fails.
assert seen_dtypes == {"BOOL", "U8", "I8", "I16", "I32", "I64", "F16", "BF16", "F32", "F64",
                       "F8_E4M3", "F8_E5M2"}, seen_dtypes
print("testdata: ok")
