"""tokenizer_source, tokenizer: {source}, and chat_template on merges of
hand-made Hugging Face folders (docs/CONFIG.md, "Tokenizer and chat
template"): the chosen model's tokenizer files land in the output folder (and
in an HDF5 output's hf_files) with the other files from the first input; the
chat template is written into tokenizer_config.json; `auto` takes the
template most inputs share; a source with another vocabulary gives the
output its rows; a template with no tokenizer_config.json stops before any
output exists."""
import json
import os
import shutil
import sys

import interop

work = os.path.join(sys.argv[1], "tokenizer")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)


def path(*names):
    return os.path.join(work, *names)


VOCAB = {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4}
ADDED = [{"id": 5, "content": "<|im_start|>", "special": True},
         {"id": 6, "content": "<|im_end|>", "special": True}]
T_A = "{% for m in messages %}A: {{ m['content'] }}\n{% endfor %}"
T_B = "{% for m in messages %}B: {{ m['content'] }}\n{% endfor %}"


def write(folder, name, value):
    with open(os.path.join(folder, name), "w") as f:
        f.write(value if isinstance(value, str) else json.dumps(value, indent=2) + "\n")


def model_folder(label, seed, vocab, template, jinja=False, extra_norm=None):
    """An exported tiny model with a config, a BPE tokenizer.json of the
    given vocabulary and a tokenizer_config.json (or chat_template.jinja)
    holding template; every file says which model it came from."""
    h5, folder = path(label + ".h5"), path(label + "_hf")
    interop.run(2, "synth", "--arch", "tiny", "--seed", str(seed), "--quiet", h5, expect=0)
    interop.run(2, "export", h5, folder, "--quiet", expect=0)
    write(folder, "config.json", {"_name_or_path": label, "model_type": "qwen3",
                                  "torch_dtype": "bfloat16"})
    tok = {"version": "1.0", "added_tokens": ADDED, "normalizer": extra_norm,
           "model": {"type": "BPE", "vocab": vocab, "merges": ["a b", "b c"]}}
    write(folder, "tokenizer.json", tok)
    cfg = {"model_max_length": 4096, "eos_token": "<|im_end|>", "from": label}
    if jinja:
        write(folder, "chat_template.jinja", template + "\n")
    else:
        cfg["chat_template"] = template
    write(folder, "tokenizer_config.json", cfg)
    write(folder, "special_tokens_map.json", {"eos_token": "<|im_end|>", "from": label})
    return h5, folder


a_h5, A = model_folder("a", 1, VOCAB, T_A)
b_h5, B = model_folder("b", 2, dict(reversed(list(VOCAB.items()))), T_B, jinja=True,
                       extra_norm={"type": "NFC"})  # same vocabulary, other bytes
c_h5, C = model_folder("c", 3, VOCAB, T_B)
_, D = model_folder("d", 4, dict(VOCAB, cd=7), T_A)  # one more token: another vocabulary
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def files(folder):
    return {n: open(os.path.join(folder, n), "rb").read() for n in os.listdir(folder)
            if not n.endswith(".safetensors") and not n.endswith(".index.json")}


def config(name, text):
    p = path(name + ".yaml")
    with open(p, "w") as f:
        f.write(text)
    return p


LINEAR = (f"merge_method: linear\nmodels:\n  - model: {A}\n  - model: {B}\n  - model: {C}\n"
          "parameters: {weight: 1}\n")


def merge(name, text, fmt="safetensors", ranks=2, expect=0):
    out = path(name + ("_out" if fmt == "safetensors" else ".h5"))
    p = interop.run(ranks, "merge", config(name, text), "--out", out, "--format", fmt,
                    "--quiet", expect=expect)
    return out, p


def tokenizer_config(files_):
    return json.loads(files_["tokenizer_config.json"])


# 1. tokenizer_source: a model -> its tokenizer files; config.json from the first.
out, _ = merge("source_b", LINEAR + f"tokenizer_source: {B}\n")
got, b_files = files(out), files(B)
for n in TOKENIZER_FILES + ("chat_template.jinja",):
    assert got[n] == b_files[n], f"source_b: {n} is not b's"
assert json.loads(got["config.json"])["_name_or_path"] == "a", "config.json should be a's"
reference = interop.st_tensors(out)
print("ok: tokenizer_source: a model, into a folder")

# 2. The same through tokenizer: {source}, into HDF5; 3 ranks; same tensors.
out, _ = merge("source_map", LINEAR + f"tokenizer: {{source: {C}}}\n", fmt="hdf5", ranks=3)
got, c_files = interop.h5_files(out), files(C)
for n in TOKENIZER_FILES:
    assert got[n] == c_files[n], f"source_map: {n} is not c's"
assert "chat_template.jinja" not in got
assert interop.h5_tensors(out) == {k: (s, d) for k, (_, s, d) in reference.items()}, \
    "the tokenizer choice must not change the tensors"
print("ok: tokenizer: {source: ...}, into HDF5 hf_files")

# 3. tokenizer_source: base.
out, _ = merge("source_base", f"merge_method: task_arithmetic\nbase_model: {B}\n"
               f"models:\n  - model: {A}\n  - model: {C}\nparameters: {{weight: 0.5}}\n"
               "tokenizer_source: base\n")
got = files(out)
for n in TOKENIZER_FILES:
    assert got[n] == b_files[n], f"source_base: {n} is not the base model's"
print("ok: tokenizer_source: base")

# 4. A named template, written into the chosen tokenizer's tokenizer_config.json;
#    b's chat_template.jinja, which transformers would read first, is dropped.
out, _ = merge("chatml", LINEAR + f"tokenizer_source: {B}\nchat_template: chatml\n")
got = files(out)
assert "chat_template.jinja" not in got, "the stale chat_template.jinja must go"
cfg = tokenizer_config(got)
want = dict(tokenizer_config(b_files))
tmpl = cfg.pop("chat_template")
assert cfg == want, "the other keys of tokenizer_config.json must stay"
for part in ("<|im_start|>", "message['role']", "message['content']", "<|im_end|>",
             "add_generation_prompt", "<|im_start|>assistant\\n"):
    assert part in tmpl, f"chatml template lacks {part!r}: {tmpl!r}"
assert got["tokenizer_config.json"].endswith(b"}\n")
print("ok: chat_template: chatml")

# 5. auto: the template most inputs share (b's jinja file and c's config
#    agree; a, the first input, has another), written into a's files.
out, _ = merge("auto", LINEAR + "chat_template: auto\n")
cfg = tokenizer_config(files(out))
assert cfg["chat_template"] == T_B.strip() and cfg["from"] == "a", cfg
print("ok: chat_template: auto takes the plurality template")

# 6. A literal template, exactly as written.
literal = "{% for m in messages %}<<{{ m['role'] }}>> {{ m['content'] }}{% endfor %}"
out, _ = merge("literal", LINEAR + "chat_template: " + json.dumps(literal) + "\n")
assert tokenizer_config(files(out))["chat_template"] == literal
print("ok: a literal chat_template")

# 7. sweep: every point takes the same tokenizer and template.
sweep_dir = path("sweep_out")
interop.run(2, "sweep", config("sweep", f"merge_method: interpolate\nmodels:\n  - model: {A}\n"
                               f"  - model: {B}\nparameters: {{lambda: 0.5}}\n"
                               f"tokenizer_source: {B}\nchat_template: llama3\n"
                               "sweep:\n  output: p-{lambda}.h5\n"
                               "  parameters:\n    lambda: [0.2, 0.8]\n"),
            "--out-dir", sweep_dir, "--quiet", expect=0)
for point in ("p-0.2.h5", "p-0.8.h5"):
    got = interop.h5_files(os.path.join(sweep_dir, point))
    assert got["tokenizer.json"] == b_files["tokenizer.json"], point
    assert "<|start_header_id|>" in tokenizer_config(got)["chat_template"], point
    assert "chat_template.jinja" not in got, point
print("ok: sweep points take the tokenizer and the template")


def expect_error(name, text, part, fmt="safetensors"):
    out, p = merge(name, text, fmt=fmt, expect=1)
    lines = interop.error_lines(p)
    assert len(lines) == 1 and part in lines[0], f"{name}: {p.stderr!r} lacks {part!r}"
    assert not os.path.exists(out), f"{name}: an output appeared"
    leftovers = [n for n in os.listdir(work) if n.startswith("." + os.path.basename(out))]
    assert not leftovers, f"{name}: temporary outputs left: {leftovers}"
    print(f"ok: {name}: {lines[0]}")


# 8. Another vocabulary: the output takes d's tokenizer and its 8 rows
#    (test_tokenizer_union.py checks the rows themselves).
out, _ = merge("vocab", LINEAR.replace(f"  - model: {C}\n", f"  - model: {D}\n")
               + f"tokenizer_source: {D}\n")
got = files(out)
assert got["tokenizer.json"] == files(D)["tokenizer.json"], "vocab: not d's tokenizer"
shapes = {k: s for k, (_, s, _) in interop.st_tensors(out).items()}
assert shapes["model.embed_tokens.weight"][0] == 8, shapes["model.embed_tokens.weight"]
print("ok: a tokenizer source with another vocabulary")
# 9. A template needs a tokenizer_config.json to go into.
expect_error("no_tokenizer", f"merge_method: linear\nmodels:\n  - model: {a_h5}\n"
             f"  - model: {b_h5}\nparameters: {{weight: 1}}\nchat_template: llama3\n",
             "chat_template needs the output's tokenizer_config.json, and no input carries one",
             fmt="hdf5")
print("tokenizer: ok")
