"""The merge methods `mpiblend merge --help` lists (made from the method
registry, blend/mpb_registry.c) are exactly those the docs' method tables
and README's merge row list, in registry order, so that neither can drift
from the other: docs/METHODS.md (Defaults), docs/CONFIG.md (Methods)."""
import os
import re

import mpbtest

SRC = os.environ["MPB_SOURCE_DIR"]


def read(path):
    with open(os.path.join(SRC, path), encoding="utf-8") as f:
        return f.read()


def help_methods():
    p = mpbtest.run(1, "merge", "--help", expect=0)
    text = p.stdout[p.stdout.index("merge methods"):]
    names = re.findall(r"^  ([a-z_]+) {2,}\S", text, re.M)
    assert names, f"no methods in merge --help:\n{p.stdout}"
    return names


def table_methods(path, heading):
    """First-column names of the first table under `heading`, in order."""
    text = read(path)
    at = text.index("\n" + heading + "\n")
    rows = []
    for line in text[at + 1:].splitlines()[1:]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            if not line.startswith("|---"):
                rows.append(line)
        elif rows:
            break
    first = [r.split("|")[1] for r in rows[1:]]  # rows[0] is the header
    return [n for cell in first for n in re.findall(r"`([a-z_]+)`", cell)]


def readme_methods():
    row = next(l for l in read("README.md").splitlines() if l.startswith("| `merge "))
    return re.findall(r"`([a-z_]+)`", row.split("|")[2].split(", with")[0])


want = help_methods()
for what, got in (("docs/METHODS.md, ## Defaults", table_methods("docs/METHODS.md", "## Defaults")),
                  ("docs/CONFIG.md, ## Methods", table_methods("docs/CONFIG.md", "## Methods"))):
    assert got == want, f"{what} lists {got}; the registry (merge --help) has {want}"
    print(f"ok: {what} lists the registry's {len(want)} methods in its order")
got = readme_methods()
assert sorted(got) == sorted(want), f"README's merge row lists {got}; the registry has {want}"
print(f"ok: README's merge row names the registry's {len(want)} methods")
