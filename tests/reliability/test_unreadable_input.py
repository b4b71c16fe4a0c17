"""Input not readable.  Root reads any file, so as root the merge runs as
user nobody (setpriv; skipped where that is impossible); other users just
lose read permission.  The error names the file, where the config names it,
and the cause."""
import os
import re
import shutil
import stat
import subprocess
import sys

import mpbtest
import reltest

work = reltest.fresh_dir(sys.argv[1], "unreadable")
reltest.make_inputs(work)
shutil.copy(os.path.join(work, "b.h5"), os.path.join(work, "secret.h5"))
secret = os.path.join(work, "secret.h5")
cfg = reltest.write_config(work, "interp.yaml", reltest.interp_text("a.h5", "secret.h5"))
outdir = os.path.join(work, "out")
os.makedirs(outdir)
prefix = ()
if os.geteuid() == 0:
    if shutil.which("setpriv") is None:
        reltest.skip("running as root without setpriv: cannot make a file unreadable")
    prefix = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
    # nobody must reach the files, load mpiblend's libraries (an HDF5 built
    # under /root is out of reach) and write the output folder.
    def reachable(path, need):
        if not os.stat(path).st_mode & need:
            return False
        path = os.path.dirname(path)
        while path != "/":
            if not os.stat(path).st_mode & stat.S_IXOTH:
                return False
            path = os.path.dirname(path)
        return True
    if not reachable(work, stat.S_IXOTH):
        reltest.skip(f"'{work}' is not reachable by other users")
    libs = subprocess.run(["ldd", mpbtest.BINARY], capture_output=True, text=True).stdout
    for lib in re.findall(r"=> (/\S+)", libs):
        if not reachable(os.path.realpath(lib), stat.S_IROTH):
            reltest.skip(f"mpiblend's library '{lib}' is not readable by other users")
    for name in ("a.h5", "interp.yaml"):
        os.chmod(os.path.join(work, name), 0o644)
    os.chmod(work, 0o755)
    os.chmod(outdir, 0o777)
os.chmod(secret, 0)
env = {k: "" for k in ("OMPI_ALLOW_RUN_AS_ROOT", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM")} \
    if prefix and mpbtest.OPENMPI else {}
env["TMPDIR"] = outdir  # Open MPI's session folder, writable by nobody
for ranks in (1, 2):
    p = reltest.run(ranks, "merge", cfg, "--out", os.path.join(outdir, "o.h5"), "--quiet",
                    expect=1, prefix=prefix, env=env, timeout=120)
    msg = reltest.error_line(p)
    assert f"'{secret}'" in msg and "models[1]" in msg and "Permission denied" in msg, msg
    assert os.listdir(outdir) == [] or all(n.startswith("ompi") for n in os.listdir(outdir)), \
        os.listdir(outdir)
    print(f"ok: {ranks} ranks: {msg}")
os.chmod(secret, 0o644)
print("unreadable input checks passed")
