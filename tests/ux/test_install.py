"""`cmake --install` under a fresh prefix puts the binary and the man page
where an environment module expects them, the installed binary runs, and
the man page renders without groff warnings."""
import os
import shutil
import subprocess
import sys

cmake, build, work = sys.argv[1], sys.argv[2], sys.argv[3]
prefix = os.path.join(work, "ux", "prefix")
shutil.rmtree(prefix, ignore_errors=True)
subprocess.run([cmake, "--install", build, "--prefix", prefix], check=True,
               capture_output=True, text=True)

binary = os.path.join(prefix, "bin", "mpiblend")
man = os.path.join(prefix, "share", "man", "man1", "mpiblend.1")
assert os.access(binary, os.X_OK), f"no executable {binary}"
assert os.path.isfile(man), f"no man page {man}"
src_man = os.path.join(os.environ["MPB_SOURCE_DIR"], "docs", "mpiblend.1")
with open(man, "rb") as f, open(src_man, "rb") as g:
    assert f.read() == g.read(), "the installed man page is not docs/mpiblend.1"

version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
assert version.stdout.startswith("mpiblend "), version.stdout
print(f"ok: {binary}: {version.stdout.splitlines()[0]}")

# -ww: every warning; -z: no output, only the diagnostics.
lint = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", man], capture_output=True,
                      text=True)
assert lint.returncode == 0 and lint.stderr == "", f"groff: {lint.stderr}"
page = subprocess.run(["man", "-l", man], capture_output=True, text=True,
                      env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"))
assert page.returncode == 0 and "mpiblend - blend large" in page.stdout, page.stderr
print(f"ok: {man} renders ({len(page.stdout.splitlines())} lines)")
