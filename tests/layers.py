"""The layers of docs/DESIGN.md, held against the code: every quoted
#include of a source file names a header of its own folder or of a folder
below it (cli > commands > mpi > io > blend > util), and blend/ includes
neither MPI nor HDF5.  Headers are matched by name, as the build's include
folders find them."""
import os
import re
import sys

ORDER = ["util", "blend", "io", "mpi", "commands", "cli"]
root = sys.argv[1]

home = {}      # header name -> its layer
sources = []   # (layer, path)
for layer in ORDER:
    for here, _, names in os.walk(os.path.join(root, layer)):
        for n in names:
            if n.endswith(".h"):
                assert n not in home, f"header {n} is in both {home[n]}/ and {layer}/"
                home[n] = layer
            if n.endswith((".c", ".h")):
                sources.append((layer, os.path.join(here, n)))
assert "mpb_cli_table.h" in home and "mpb_driver.h" in home, "the layout moved: update ORDER"

up, forbidden = [], []
for layer, path in sources:
    rel = os.path.relpath(path, root)
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = re.match(r'\s*#\s*include\s*[<"]([^">]+)[">]', line)
            if not m:
                continue
            name = m.group(1)
            if layer == "blend" and (name == "mpi.h" or name.startswith("hdf5") or name.startswith("H5")):
                forbidden.append(f"{rel}:{n}: {name}")
            target = home.get(os.path.basename(name))
            if target and ORDER.index(target) > ORDER.index(layer):
                up.append(f"{rel}:{n}: includes {name} from {target}/")
assert not up, "includes that point up a layer:\n" + "\n".join(up)
assert not forbidden, "blend/ must not use MPI or HDF5:\n" + "\n".join(forbidden)
print(f"ok: {len(sources)} files in {len(ORDER)} layers, no include points up")
