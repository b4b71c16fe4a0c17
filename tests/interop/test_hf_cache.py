"""Hugging Face names in a config (ORG/NAME, ORG/NAME@REVISION) resolved
through a fake local hub cache laid out as huggingface_hub lays it out
(refs/, snapshots/HASH/ with symlinks into blobs/): the merge equals the
merge of the folders themselves; HF_HUB_CACHE, HF_HOME and HOME are each
searched; a local path of the same name wins; a missing model or revision
stops before any output with the cache folders searched and the download
command (docs/CONFIG.md, "Hugging Face names")."""
import hashlib
import os
import shutil
import sys

import interop

work = os.path.join(sys.argv[1], "hf_cache")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)


def path(*names):
    return os.path.join(work, *names)


a, b, fa, fb = interop.two_models(work)


def cache_model(root, repo, revisions):
    """revisions: {ref name: source folder}; each becomes a snapshot named by
    a made-up commit hash whose files are relative symlinks to blobs named
    by their sha256, as the hub's cache stores them.  Returns the hashes."""
    model = os.path.join(root, "models--" + repo.replace("/", "--"))
    hashes = {}
    for ref, source in revisions.items():
        commit = hashlib.sha1(f"{repo}@{ref}".encode()).hexdigest()
        snap = os.path.join(model, "snapshots", commit)
        os.makedirs(snap)
        os.makedirs(os.path.join(model, "blobs"), exist_ok=True)
        for name in sorted(os.listdir(source)):
            with open(os.path.join(source, name), "rb") as f:
                data = f.read()
            blob = hashlib.sha256(data).hexdigest()
            with open(os.path.join(model, "blobs", blob), "wb") as f:
                f.write(data)
            os.symlink(os.path.join("..", "..", "blobs", blob), os.path.join(snap, name))
        ref_file = os.path.join(model, "refs", ref)
        os.makedirs(os.path.dirname(ref_file), exist_ok=True)
        with open(ref_file, "w") as f:
            f.write(commit)  # the hub writes the hash without a newline
        hashes[ref] = commit
    return hashes


hub = path("hub")
cache_model(hub, "org/model-a", {"main": fa})
b_hashes = cache_model(hub, "org/model-b", {"main": fa, "v2": fb})

cfg_dir = path("cfg")
os.makedirs(cfg_dir)


def config(name, first, second):
    p = os.path.join(cfg_dir, name)
    with open(p, "w") as f:
        f.write(f"merge_method: interpolate\nmodels:\n  - model: {first}\n  - model: {second}\n"
                "parameters:\n  lambda: 0.3\n")
    return p


reference = path("ref.h5")
interop.run(2, "merge", config("folders.yaml", fa, fb), "--out", reference, "--quiet", expect=0)
want = interop.h5_tensors(reference)
assert want != interop.h5_tensors(a)


def with_env(**values):
    """The environment of the next runs: the hub variables unset unless given."""
    for k in ("HF_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        os.environ.pop(k, None)
    os.environ.update(values)


home = os.environ.get("HOME", "/root")
by_name = config("names.yaml", "org/model-a", "org/model-b@v2")
by_hash = config("hash.yaml", "org/model-a@main", "org/model-b@" + b_hashes["v2"])
hf_home = path("hf_home")
os.makedirs(hf_home)
os.symlink(hub, os.path.join(hf_home, "hub"))
fake_home = path("home")
os.makedirs(os.path.join(fake_home, ".cache", "huggingface"))
os.symlink(hub, os.path.join(fake_home, ".cache", "huggingface", "hub"))
runs = [("hub_cache", by_name, dict(HF_HUB_CACHE=hub, HOME=home), 2),
        ("hub_hash", by_hash, dict(HF_HUB_CACHE=hub, HOME=home), 3),
        ("hf_home", by_name, dict(HF_HOME=hf_home, HOME=home), 1),
        ("home", by_name, dict(HOME=fake_home), 2),
        # a cache that does not hold the model comes first; the next one does
        ("second_root", by_name, dict(HF_HUB_CACHE=path("empty"), HF_HOME=hf_home, HOME=home), 2)]
for label, cfg, env, ranks in runs:
    with_env(**env)
    out = path(label + ".h5")
    interop.run(ranks, "merge", cfg, "--out", out, "--quiet", expect=0)
    assert interop.h5_tensors(out) == want, f"{label}: differs from merging the folders"
    print(f"ok: {label}")

# sweep: its points are checked against the merge's inputs, so they must
# resolve the names the same way.
with_env(HF_HUB_CACHE=hub, HOME=home)
sweep_cfg = os.path.join(cfg_dir, "sweep.yaml")
with open(sweep_cfg, "w") as f:
    f.write("merge_method: interpolate\nmodels:\n  - model: org/model-a\n"
            "  - model: org/model-b@v2\nparameters:\n  lambda: 0.5\n"
            "sweep:\n  output: p-{lambda}.h5\n  parameters:\n    lambda: [0.3, 0.6]\n")
interop.run(2, "sweep", sweep_cfg, "--out-dir", path("sweep_out"), "--quiet", expect=0)
assert interop.h5_tensors(path("sweep_out", "p-0.3.h5")) == want
print("ok: sweep")

# Without the revision, org/model-b is refs/main: a.h5's files, so the merge
# differs from the reference (the revision was really read).
with_env(HF_HUB_CACHE=hub, HOME=home)
out = path("main.h5")
interop.run(2, "merge", config("main.yaml", "org/model-a", "org/model-b"), "--out", out,
            "--quiet", expect=0)
assert interop.h5_tensors(out) == interop.h5_tensors(a), "refs/main of org/model-b is a.h5's"
print("ok: refs/main is the default revision")

# A local folder of that name, next to the config, wins over the cache.
os.makedirs(os.path.join(cfg_dir, "org"))
shutil.copytree(fb, os.path.join(cfg_dir, "org", "model-b"))
out = path("local.h5")
interop.run(2, "merge", config("local.yaml", "org/model-a", "org/model-b"), "--out", out,
            "--quiet", expect=0)
assert interop.h5_tensors(out) == want, "the local folder org/model-b should win"
print("ok: a local path wins over the cache")


def expect_missing(label, second, parts, env):
    with_env(**env)
    out = path(label + ".h5")
    cfg = config(label + ".yaml", "org/model-a", second)
    p = interop.run(2, "merge", cfg, "--out", out, "--quiet", expect=1)
    lines = interop.error_lines(p)
    assert len(lines) == 1, p.stderr
    for part in parts:
        assert part in lines[0], f"{label}: {lines[0]!r} lacks {part!r}"
    assert not os.path.exists(out), f"{label}: an output appeared"
    print(f"ok: {label}: {lines[0]}")


expect_missing("missing_model", "org/missing",
               ["model 'org/missing' (from " + cfg_dir + "/missing_model.yaml models[1])",
                f"is not a local path ('{cfg_dir}/org/missing' does not exist) and is not in the "
                "Hugging Face cache",
                f"searched {hub}/models--org--missing, {hf_home}/hub/models--org--missing, "
                f"{fake_home}/.cache/huggingface/hub/models--org--missing",
                "huggingface-cli download org/missing --revision main"],
               dict(HF_HUB_CACHE=hub, HF_HOME=hf_home, HOME=fake_home))
expect_missing("missing_revision", "org/model-b@v9",
               ["model 'org/model-b'", "is in the Hugging Face cache but not its revision 'v9'",
                f"searched {hub}/models--org--model-b, ",
                "huggingface-cli download org/model-b --revision v9"],
               dict(HF_HUB_CACHE=hub, HOME=hub))
# A ref whose snapshot was deleted (an interrupted download) is missing too.
shutil.rmtree(os.path.join(hub, "models--org--model-b", "snapshots", b_hashes["v2"]))
expect_missing("missing_snapshot", "org/model-b@v2",
               ["is in the Hugging Face cache but not its revision 'v2'",
                "huggingface-cli download org/model-b --revision v2"],
               dict(HF_HUB_CACHE=hub, HOME=hub))
print("hf_cache: ok")
