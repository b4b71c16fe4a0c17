"""Merges of models whose vocabularies differ (docs/CONFIG.md, "Tokenizer and
chat template"): tokenizer_source: union, a model whose vocabulary the others
do not share, tokenizer: {pad_to_multiple_of}, tied embeddings.  Three
hand-made safetensors folders with their own tokenizer.json (different sizes,
added tokens, padding rows past the vocabulary); the output's tokenizer
files, config.json's vocab_size and every embedding and lm_head row are
checked bit for bit against a numpy implementation of mergekit's rules
(mergekit/tokenizer/build.py and embed.py), at 1-4 ranks with slabs that
split the embeddings, into safetensors folders and HDF5."""
import json
import math
import os
import shutil
import sys

import numpy as np

import interop
import mpbtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "methods"))
from methods_ref import linear  # noqa: E402  (docs/ARITHMETIC.md's fp32 order)

work = os.path.join(sys.argv[1], "tokenizer_union")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
H = 64  # 256-byte rows: 1 KiB slabs split the embeddings


def path(*names):
    return os.path.join(work, *names)


def write_json(folder, name, value):
    with open(os.path.join(folder, name), "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def model(label, seed, vocab, added, rows, tied=False):
    """A folder with embed_tokens (and lm_head unless tied) of `rows` rows,
    one layer tensor and a norm; tokenizer.json of vocab + added tokens."""
    rng = np.random.default_rng(seed)
    folder = path(label)
    os.makedirs(folder)
    t = {"model.embed_tokens.weight": rng.standard_normal((rows, H)),
         "model.layers.0.mlp.up_proj.weight": rng.standard_normal((8, H)),
         "model.norm.weight": rng.standard_normal(H)}
    if not tied:
        t["lm_head.weight"] = rng.standard_normal((rows, H))
    # Column 0: +2^60 at token "a", -2^60 at token "ab" (c takes a's, the
    # base's, row for it): the exact pad mean keeps the rows between, which
    # a row-order fp64 sum loses.
    for row, value in {"a": ((0, 1), (3, -1)), "b": ((0, 1), (5, -1)),
                       "c": ((0, 1),)}.get(label, ()):
        t["model.embed_tokens.weight"][row, 0] = value * 2.0**60
    mpbtest.write_safetensors(os.path.join(folder, "model.safetensors"),
                      {k: v.astype(np.float32) for k, v in t.items()})
    write_json(folder, "config.json", {"_name_or_path": label, "model_type": "llama",
                                       "num_hidden_layers": 1, "vocab_size": rows,
                                       "tie_word_embeddings": tied,
                                       "torch_dtype": "float32"})
    entries = [{"id": i, "content": c, "single_word": False, "lstrip": False,
                "rstrip": False, "normalized": False, "special": True}
               for c, i in added]
    write_json(folder, "tokenizer.json",
               {"version": "1.0", "added_tokens": entries,
                "model": {"type": "BPE", "vocab": vocab, "merges": []}})
    write_json(folder, "tokenizer_config.json",
               {"from": label, "added_tokens_decoder": {
                   str(e["id"]): {k: v for k, v in e.items() if k != "id"} for e in entries}})
    return folder


# a: 7 tokens, 7 rows.  b: 8 tokens in 10 rows (2 padding rows).  c: 6 tokens.
VA = {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4}
VB = {"a": 0, "c": 1, "b": 2, "cd": 3, "d": 4, "ab": 5}
VC = {"a": 0, "b": 1, "d": 2, "e": 3}
AA, AB, AC = [("<s>", 5), ("<x>", 6)], [("<s>", 6), ("<y>", 7)], [("<y>", 4), ("<z>", 5)]
A = model("a", 1, VA, AA, 7)
B = model("b", 2, VB, AB, 10)
C = model("c", 3, VC, AC, 6)
TA = model("ta", 4, VA, AA, 7, tied=True)
TB = model("tb", 5, VB, AB, 10, tied=True)


# ---- the reference: mergekit's rules in numpy ----

def tokenizer(folder):
    return json.load(open(os.path.join(folder, "tokenizer.json")))


def rows_of(folder):
    return json.load(open(os.path.join(folder, "config.json")))["vocab_size"]


def vocab(folder):
    """(token -> id, id -> added entry) as transformers' get_vocab() and
    added_tokens_decoder give them."""
    tok = tokenizer(folder)
    ids = dict(tok["model"]["vocab"])
    added = {}
    for e in tok["added_tokens"]:
        ids[e["content"]] = e["id"]
        added[e["id"]] = e
    return ids, added


def union_tokens(folders):
    """build_union_tokenizer: the lead's (folders[0]) tokens, then the other
    models' ordinary tokens it lacks, then their added tokens it lacks."""
    ids0, _ = vocab(folders[0])
    out = sorted(ids0, key=ids0.get)
    added_any = set()
    for f in folders:
        ids, added = vocab(f)
        added_any |= {e["content"] for i, e in added.items() if i < rows_of(f)}
    new = []
    for f in folders[1:]:
        ids, _ = vocab(f)
        for tok in sorted(ids, key=ids.get):
            if ids[tok] < rows_of(f) and tok not in added_any and tok not in out:
                out.append(tok)
                new.append((tok, None))
    for f in folders[1:]:
        _, added = vocab(f)
        for i in sorted(added):
            if i < rows_of(f) and added[i]["content"] not in out:
                out.append(added[i]["content"])
                new.append((added[i]["content"], added[i]))
    return out, new


def read(folder, name):
    d, shape, raw = interop.st_tensors(folder)[name]
    return interop.st_array(d, shape, raw).astype(np.float32)


def rule_row(rule, inputs, xs, srcs, k):
    """A `tokens:` rule's row (TokenEmbeddingConfig's source)."""
    src = rule["source"]
    if isinstance(src, str):
        i = inputs.index(src)
        return xs[i][srcs[i][k]]
    if src["kind"] == "zero":
        return np.zeros(H, np.float32)
    i = inputs.index(src["model"])
    row = src["token_id"] if "token_id" in src else vocab(inputs[i])[0][src["token"]]
    return xs[i][row]


def permuted(inputs, name, tokens, base, pad_to=None, rules=None):
    """PermutedEmbeddings: each input's rows in the output vocabulary."""
    rules = rules or {}
    srcs = []
    for f in inputs:
        ids, _ = vocab(f)
        srcs.append([ids[t] if t in ids and ids[t] < rows_of(f) else -1 for t in tokens])
    xs = [read(f, name) for f in inputs]
    fills = {}
    for k, tok in enumerate(tokens):
        have = [i for i in range(len(inputs)) if srcs[i][k] >= 0]
        if tok in rules:
            fills[k] = rule_row(rules[tok], inputs, xs, srcs, k)
        elif len(have) == len(inputs):
            continue
        elif not have:
            fills[k] = np.zeros(H, np.float32)
        elif len(have) == 1:
            fills[k] = xs[have[0]][srcs[have[0]][k]]
        elif base is not None and base in have:
            fills[k] = xs[base][srcs[base][k]]
        else:  # summed in fp32 in input order, divided in fp32
            acc = np.zeros(H, np.float32)
            for i in have:
                acc = (acc + xs[i][srcs[i][k]]).astype(np.float32)
            fills[k] = (acc / np.float32(len(have))).astype(np.float32)
    n_rows = len(tokens)
    if pad_to and n_rows % pad_to:
        n_rows += pad_to - n_rows % pad_to
    out = []
    for i in range(len(inputs)):
        force = [rules.get(t, {}).get("force", False) for t in tokens]
        rows = np.stack([xs[i][srcs[i][k]] if srcs[i][k] >= 0 and not force[k] else fills[k]
                         for k in range(len(tokens))])
        if n_rows > len(tokens):  # mean over the vocabulary: exact sums (math.fsum)
            s = np.array([math.fsum(col) for col in rows.astype(np.float64).T.tolist()])
            mean = (s / len(tokens)).astype(np.float32)
            rows = np.vstack([rows] + [mean] * (n_rows - len(tokens)))
        out.append(rows.astype(np.float32))
    return out


def config(name, text):
    p = path(name + ".yaml")
    with open(p, "w") as f:
        f.write(text)
    return p


def merge(name, text, ranks=2, fmt="safetensors", extra=(), expect=0):
    out = path(name + ("_out" if fmt == "safetensors" else ".h5"))
    if os.path.exists(out):
        shutil.rmtree(out) if os.path.isdir(out) else os.remove(out)
    p = interop.run(ranks, "merge", config(name, text), "--out", out, "--format", fmt,
                    "--quiet", *extra, expect=expect)
    return out, p


def out_tensor(out, name):
    if os.path.isdir(out):
        return read(out, name)
    import h5py
    with h5py.File(out, "r") as f:
        return f[name][...].astype(np.float32)


def check_tensors(label, out, inputs, coefs, tokens, base, pad_to=None, tied=False,
                  rules=None):
    names = ["model.embed_tokens.weight"] + ([] if tied else ["lm_head.weight"])
    for name in names:
        want = linear(permuted(inputs, name, tokens, base, pad_to, rules), coefs)
        got = out_tensor(out, name)
        assert got.shape == want.shape, f"{label}: {name} {got.shape} != {want.shape}"
        bad = np.nonzero(np.any(got.view(np.uint32) != want.view(np.uint32), axis=1))[0]
        assert bad.size == 0, f"{label}: {name} rows {bad.tolist()} differ"
    for name in ("model.layers.0.mlp.up_proj.weight", "model.norm.weight"):
        want = linear([read(f, name) for f in inputs], coefs)
        assert np.array_equal(out_tensor(out, name).view(np.uint32), want.view(np.uint32)), \
            f"{label}: {name} differs"
    if tied:
        assert "lm_head.weight" not in interop.st_tensors(out), f"{label}: lm_head appeared"


def out_files(out):
    if os.path.isdir(out):
        return {n: open(os.path.join(out, n), "rb").read() for n in os.listdir(out)}
    return interop.h5_files(out)


def check_union_files(label, out, folders, n_rows, add=()):
    files = out_files(out)
    tokens, new = union_tokens(folders)
    for t in add:  # tokens: names mergekit adds as ordinary tokens
        if t not in tokens:
            tokens.append(t)
            new.append((t, None))
    tok = json.loads(files["tokenizer.json"])
    lead = tokenizer(folders[0])
    n_lead = len(vocab(folders[0])[0])
    assert tok["model"] == lead["model"], f"{label}: the model part must stay the lead's"
    added = tok["added_tokens"]
    assert added[:len(lead["added_tokens"])] == lead["added_tokens"], label
    extra = added[len(lead["added_tokens"]):]
    assert [e["content"] for e in extra] == [t for t, _ in new], \
        f"{label}: added {[e['content'] for e in extra]}, want {[t for t, _ in new]}"
    for k, (e, (t, src)) in enumerate(zip(extra, new)):
        assert e["id"] == n_lead + k, f"{label}: {t!r} has id {e['id']}"
        want = dict(src, id=n_lead + k) if src else {
            "id": n_lead + k, "content": t, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": True, "special": False}
        assert e == want, f"{label}: {e} != {want}"
    dec = json.loads(files["tokenizer_config.json"])["added_tokens_decoder"]
    for e in extra:
        assert dec[str(e["id"])] == {k: v for k, v in e.items() if k != "id"}, label
    assert json.loads(files["tokenizer_config.json"])["from"] == \
        json.loads(open(os.path.join(folders[0], "tokenizer_config.json")).read())["from"]
    cfg = json.loads(files["config.json"])
    assert cfg["vocab_size"] == n_rows, f"{label}: vocab_size {cfg['vocab_size']} != {n_rows}"
    return tokens


# 1. union with a base model: the base's tokenizer leads; tokens only b and
#    c have get their mean, tokens the base has its row; 1-4 ranks, slabs
#    that split the embeddings, both I/O modes, folder and HDF5 outputs.
LIN3 = ("merge_method: linear\nbase_model: {0}\nmodels:\n  - model: {0}\n"
        "    parameters: {{weight: 0.5}}\n  - model: {1}\n    parameters: {{weight: 0.25}}\n"
        "  - model: {2}\n    parameters: {{weight: 0.25}}\n")
U1 = LIN3.format(A, B, C) + "tokenizer_source: union\n"
tokens = union_tokens([A, B, C])[0]
assert tokens == ["a", "b", "c", "ab", "bc", "<s>", "<x>", "cd", "d", "e", "<y>", "<z>"], tokens
first = None
for ranks, fmt, extra in ((1, "safetensors", ()), (2, "safetensors", ("--slab-kib", "1")),
                          (3, "hdf5", ("--slab-kib", "1", "--io", "independent")),
                          (4, "safetensors", ("--slab-kib", "1", "--memory-mib", "1"))):
    out, _ = merge(f"union_base_{ranks}", U1, ranks=ranks, fmt=fmt, extra=extra)
    check_tensors(f"union/{ranks}", out, [A, B, C], [0.5, 0.25, 0.25], tokens, base=0)
    check_union_files(f"union/{ranks}", out, [A, B, C], len(tokens))
print("ok: union with a base model, 1-4 ranks, split slabs, folder and HDF5")

# 2. union without a base model: the first model (b) leads; tokens two
#    models have (c: a and b) get their mean.
U2 = ("merge_method: linear\nmodels:\n" + "".join(
    f"  - model: {m}\n    parameters: {{weight: {w}}}\n"
    for m, w in ((B, 0.25), (A, 0.5), (C, 0.25))) + "tokenizer: {source: union}\n")
tokens = union_tokens([B, A, C])[0]
out, _ = merge("union_first", U2, ranks=3, extra=("--slab-kib", "1"))
check_tensors("union_first", out, [B, A, C], [0.25, 0.5, 0.25], tokens, base=None)
check_union_files("union_first", out, [B, A, C], len(tokens))
print("ok: union led by the first model, means over the models that have a token")

# 3. pad_to_multiple_of: 12 tokens -> 16 rows, each input's mean row.
U3 = LIN3.format(A, B, C) + "tokenizer: {source: union, pad_to_multiple_of: 8}\n"
tokens = union_tokens([A, B, C])[0]
for ranks in (1, 2, 3, 4):
    out, _ = merge(f"pad_{ranks}", U3, ranks=ranks, extra=("--slab-kib", "1"))
    check_tensors(f"pad/{ranks}", out, [A, B, C], [0.5, 0.25, 0.25], tokens, base=0, pad_to=8)
    check_union_files(f"pad/{ranks}", out, [A, B, C], 16)
print("ok: pad_to_multiple_of pads with each input's mean row; vocab_size 16")

# 4. A model's vocabulary (b's 8 tokens; its 2 padding rows are dropped).
S = LIN3.format(A, B, C) + f"tokenizer_source: {B}\n"
tokens = sorted(vocab(B)[0], key=vocab(B)[0].get)
out, _ = merge("source_b", S, ranks=2, extra=("--slab-kib", "1"))
check_tensors("source_b", out, [A, B, C], [0.5, 0.25, 0.25], tokens, base=0)
files = out_files(out)
assert files["tokenizer.json"] == open(os.path.join(B, "tokenizer.json"), "rb").read()
assert json.loads(files["config.json"])["vocab_size"] == 8
print("ok: tokenizer_source: a model whose vocabulary the others do not share")

# 5. Tied embeddings (no lm_head): the embedding alone is rebuilt.
T = ("merge_method: linear\nmodels:\n  - model: " + TA + "\n    parameters: {weight: 0.5}\n"
     "  - model: " + TB + "\n    parameters: {weight: 0.5}\ntokenizer_source: union\n")
tokens = union_tokens([TA, TB])[0]
out, _ = merge("tied", T, ranks=2, extra=("--slab-kib", "1"))
check_tensors("tied", out, [TA, TB], [0.5, 0.5], tokens, base=None, tied=True)
check_union_files("tied", out, [TA, TB], len(tokens))
assert json.loads(out_files(out)["config.json"])["tie_word_embeddings"] is True
print("ok: tied embeddings")


# 6. tokens: a zero row for the lacking models, a forced row from another
#    token of b, a new token from a row of a, a model's own row.
RULES = {"<z>": {"source": {"kind": "zero"}},
         "c": {"source": {"kind": "model_token", "model": B, "token": "d"}, "force": True},
         "<new>": {"source": {"kind": "model_token", "model": A, "token_id": 3}},
         "d": {"source": C}}
U6 = LIN3.format(A, B, C) + "tokenizer:\n  source: union\n  tokens:\n" + "".join(
    f"    {json.dumps(t)}: {json.dumps(r)}\n" for t, r in RULES.items())
tokens = union_tokens([A, B, C])[0] + ["<new>"]
for ranks in (1, 3):
    out, _ = merge(f"tokens_{ranks}", U6, ranks=ranks, extra=("--slab-kib", "1"))
    check_tensors(f"tokens/{ranks}", out, [A, B, C], [0.5, 0.25, 0.25], tokens, base=0,
                  rules=RULES)
    check_union_files(f"tokens/{ranks}", out, [A, B, C], len(tokens), add=["<new>"])
# The same rules on b's vocabulary: <new> and <z> are added to b's files.
U7 = LIN3.format(A, B, C) + f"tokenizer:\n  source: {B}\n  tokens:\n" + "".join(
    f"    {json.dumps(t)}: {json.dumps(r)}\n" for t, r in RULES.items())
tokens = sorted(vocab(B)[0], key=vocab(B)[0].get) + ["<z>", "<new>"]
out, _ = merge("tokens_source", U7, ranks=2, extra=("--slab-kib", "1"))
check_tensors("tokens_source", out, [A, B, C], [0.5, 0.25, 0.25], tokens, base=0, rules=RULES)
got = json.loads(out_files(out)["tokenizer.json"])["added_tokens"]
assert [(e["content"], e["id"]) for e in got[-2:]] == [("<z>", 8), ("<new>", 9)], got[-2:]
print("ok: tokens: zero, model_token by token and id, forced, a model's row, new tokens")


# 8. With slices: the vocabulary view under the slices' layer view.  Two
#    slices of a, b and c (layer 0 twice: two output layers); the embeddings
#    come from slices[0]'s sources and lm_head from the last slice's, each
#    in the union's vocabulary, bit for bit as the models: config above.
SL = ("merge_method: linear\nbase_model: {0}\nslices:\n" + "".join(
    "  - sources:\n"
    "      - {{model: {0}, layer_range: [0, 1], parameters: {{weight: 0.5}}}}\n"
    "      - {{model: {1}, layer_range: [0, 1], parameters: {{weight: 0.25}}}}\n"
    "      - {{model: {2}, layer_range: [0, 1], parameters: {{weight: 0.25}}}}\n"
    for _ in range(2)))
tokens = union_tokens([A, B, C])[0]
layer0 = "model.layers.0.mlp.up_proj.weight"
for ranks, fmt, extra in ((1, "safetensors", ()), (2, "hdf5", ("--slab-kib", "1")),
                          (3, "safetensors", ("--slab-kib", "1", "--io", "independent")),
                          (4, "safetensors", ("--slab-kib", "1", "--memory-mib", "1"))):
    out, _ = merge(f"slices_union_{ranks}", SL.format(A, B, C) + "tokenizer_source: union\n",
                   ranks=ranks, fmt=fmt, extra=extra)
    check_tensors(f"slices_union/{ranks}", out, [A, B, C], [0.5, 0.25, 0.25], tokens, base=0)
    check_union_files(f"slices_union/{ranks}", out, [A, B, C], len(tokens))
    assert np.array_equal(out_tensor(out, "model.layers.1.mlp.up_proj.weight"),
                          out_tensor(out, layer0)), f"slices_union/{ranks}: layer 1"
for ranks in (1, 4):
    out, _ = merge(f"slices_pad_{ranks}", SL.format(A, B, C) +
                   "tokenizer: {source: union, pad_to_multiple_of: 8}\n", ranks=ranks,
                   extra=("--slab-kib", "1"))
    check_tensors(f"slices_pad/{ranks}", out, [A, B, C], [0.5, 0.25, 0.25], tokens, base=0,
                  pad_to=8)
    check_union_files(f"slices_pad/{ranks}", out, [A, B, C], 16)
out, _ = merge("slices_tokens", SL.format(A, B, C) + "tokenizer:\n  source: union\n  tokens:\n" +
               "".join(f"    {json.dumps(t)}: {json.dumps(r)}\n" for t, r in RULES.items()),
               ranks=3, extra=("--slab-kib", "1"))
check_tensors("slices_tokens", out, [A, B, C], [0.5, 0.25, 0.25], tokens + ["<new>"], base=0,
              rules=RULES)
print("ok: slices: union, pad_to_multiple_of and tokens, 1-4 ranks, split slabs")


def expect_error(name, text, part):
    out, p = merge(name, text, expect=1)
    lines = interop.error_lines(p)
    assert len(lines) == 1 and part in lines[0], f"{name}: {p.stderr!r} lacks {part!r}"
    assert not os.path.exists(out), f"{name}: an output appeared"
    print(f"ok: {name}: {lines[0]}")


# 7. Errors, before any output exists.
N = path("no_tok")
shutil.copytree(C, N)
os.remove(os.path.join(N, "tokenizer.json"))
expect_error("no_tokenizer_json", LIN3.format(A, B, N) + "tokenizer_source: union\n",
             f"tokenizer_source: union needs every input's tokenizer.json, and '{N}' has none")
TOK = LIN3.format(A, B, C) + "tokenizer:\n  source: union\n  tokens:\n"
expect_error("tokens_lacks", TOK + f"    q: {{source: {B}}}\n",
             f"tokenizer.tokens 'q': 'q' is not in the vocabulary of '{B}' (its tokenizer.json)")
expect_error("tokens_token", TOK + f"    d: {{source: {{kind: model_token, model: {A}, "
             "token: zz}}\n",
             f"tokenizer.tokens 'd': 'zz' is not in the vocabulary of '{A}' (its tokenizer.json)")
expect_error("tokens_id", TOK + f"    d: {{source: {{kind: model_token, model: {C}, "
             "token_id: 6}}\n",
             f"tokenizer.tokens 'd': token_id 6 is past the 6 embedding rows of '{C}'")
expect_error("tokens_model", TOK + "    d: {source: nowhere}\n",
             "tokenizer.tokens 'd': source 'nowhere' is not one of the models or the "
             "base_model in")
expect_error("pad_zero", LIN3.format(A, B, C) + "tokenizer: {pad_to_multiple_of: 0}\n",
             "tokenizer.pad_to_multiple_of must be a positive integer, not '0'")
# slices whose first and last slices read other models: refused, as the
# embedding rows are built for slices[0]'s (and the last slice's) sources.
expect_error("slices_franken", "merge_method: passthrough\nslices:\n"
             f"  - sources: [{{model: {A}, layer_range: [0, 1]}}]\n"
             f"  - sources: [{{model: {B}, layer_range: [0, 1]}}]\n"
             "tokenizer_source: union\n",
             "tokenizer_source: union with slices needs slices[0] and the last slice to list "
             "the same models in the same order")
print("tokenizer_union: ok")
