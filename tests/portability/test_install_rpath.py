"""`cmake --install` puts a binary that finds its libraries (HDF5, MPI,
libyaml, jansson) without LD_LIBRARY_PATH: every library outside the
system's folders is reached through the binary's RUNPATH/RPATH.  Meaningful
where HDF5 lives in a prefix (CI's newest-HDF5 leg, modules, Spack)."""
import os
import re
import shutil
import subprocess
import sys

work = sys.argv[1]
shutil.rmtree(work, ignore_errors=True)
prefix = os.path.join(work, "prefix")
subprocess.run([os.environ.get("MPB_CMAKE", "cmake"), "--install", os.environ["MPB_BUILD_DIR"],
                "--prefix", prefix], check=True, capture_output=True, timeout=300)
binary = os.path.join(prefix, "bin", "mpiblend")
env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}

dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                         check=True).stdout
paths = re.findall(r"\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[([^\]]*)\]", dynamic)
rpath = [os.path.realpath(p) for p in ":".join(paths).split(":") if p]
listing = subprocess.run(["ldd", binary], capture_output=True, text=True, env=env,
                         check=True).stdout
assert "not found" not in listing, listing
system = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/")
outside = []
for name, path in re.findall(r"^\s*(\S+) => (/\S+)", listing, re.M):
    folder = os.path.dirname(path)
    if not folder.startswith(system) and not path.startswith(system):
        outside.append(name)
        assert os.path.realpath(folder) in rpath, (name, path, rpath)
p = subprocess.run([binary, "--version"], capture_output=True, text=True, env=env, timeout=60)
assert p.returncode == 0 and p.stdout.startswith("mpiblend "), (p.returncode, p.stderr)
print(f"ok: installed binary runs without LD_LIBRARY_PATH; RUNPATH {rpath}; "
      f"libraries outside system folders: {outside or 'none'}")
print(p.stdout.strip())
