"""synth: real names and shapes, N(0, 0.02) values that h5py reads as true
floats, the same bits for any rank count and slab size."""
import os
import shutil
import sys

import h5py
import numpy as np

import mpbtest

work = os.path.join(sys.argv[1], "synth")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)

outs = []
for ranks, slab in ((1, "64"), (2, "16"), (4, "7")):
    out = os.path.join(work, f"tiny_{ranks}.h5")
    mpbtest.run(ranks, "synth", "--arch", "tiny", "--seed", "7", "--slab-kib", slab, "--quiet",
                out, expect=0)
    outs.append(out)
for other in outs[1:]:
    mpbtest.assert_same_tensors(outs[0], other)

with h5py.File(outs[0], "r") as f:
    assert f.attrs["mpiblend_format"] == b"mpiblend-checkpoint"
    assert f.attrs["mpiblend_format_version"] == 1
    emb = f["model.embed_tokens.weight"]
    assert emb.shape == (1024, 128) and mpbtest.dtype_of(emb) == "bf16"
    values = emb[...]
    assert values.dtype == np.float32  # h5py reads the bf16 type as true floats
    assert abs(values.std() - 0.02) < 0.001 and abs(values.mean()) < 0.001
    assert f["model.layers.0.self_attn.q_norm.weight"].shape == (32,)
    assert "lm_head.weight" not in f  # tiny ties its embeddings, as Qwen3 small models do
    assert len([k for k in f.keys()]) == 1 + 4 * 11 + 1

# A different seed gives different values; f16 and f32 are stored as such.
other_seed = os.path.join(work, "seed8.h5")
mpbtest.run(2, "synth", "--arch", "tiny", "--seed", "8", "--quiet", other_seed, expect=0)
x, _ = mpbtest.raw_bits(outs[0], "model.norm.weight")
y, _ = mpbtest.raw_bits(other_seed, "model.norm.weight")
assert not np.array_equal(x, y)
for dt in ("f16", "f32"):
    out = os.path.join(work, f"tiny_{dt}.h5")
    mpbtest.run(2, "synth", "--arch", "tiny", "--dtype", dt, "--quiet", out, expect=0)
    with h5py.File(out, "r") as f:
        assert mpbtest.dtype_of(f["model.norm.weight"]) == dt

# qwen3-moe-mini: Qwen3-30B-A3B's tensor names and counts at tiny sizes.
moe = os.path.join(work, "moe.h5")
mpbtest.run(2, "synth", "--arch", "qwen3-moe-mini", "--io", "independent", "--quiet", moe,
            expect=0)
names = mpbtest.tensor_names(moe)
assert len(names) == 48 * (128 * 3 + 1 + 4 + 2 + 2) + 3, len(names)
assert "model.layers.47.mlp.experts.127.down_proj.weight" in names
assert "model.layers.0.mlp.gate.weight" in names and "lm_head.weight" in names

# Dry run writes nothing and reports the plan.
p = mpbtest.run(2, "synth", "--arch", "qwen3-4b", "--dry-run", os.path.join(work, "big.h5"),
                expect=0)
assert "synth qwen3-4b: 398 tensors" in p.stdout, p.stdout
assert not os.path.exists(os.path.join(work, "big.h5"))
print("synth checks passed")
