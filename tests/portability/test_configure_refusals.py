"""Configuring against an HDF5 that mpiblend cannot use stops with a message
naming what was found: another MPI's HDF5 (when one is installed, e.g.
Debian's hdf5-mpich next to hdf5-openmpi) names both MPI libraries; a serial
HDF5 says it is serial.  A configure against this build's own HDF5 choice
with the same flags passes, so the refusals come from the checks."""
import os
import shutil
import subprocess
import sys

work = sys.argv[1]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
source = os.environ["MPB_SOURCE_DIR"]
cmake = os.environ.get("MPB_CMAKE", "cmake")
compiler = [f"-DCMAKE_C_COMPILER={os.environ['MPB_C_COMPILER']}",
            f"-DMPI_C_COMPILER={os.environ['MPB_MPI_C_COMPILER']}", "-DBUILD_TESTING=OFF"]


def configure(name, *args, env=None):
    p = subprocess.run([cmake, "-S", source, "-B", os.path.join(work, name)] + compiler +
                       list(args), capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, " ".join((p.stdout + p.stderr).split())  # CMake wraps lines


rc, out = configure("control")
assert rc == 0 and "same MPI as mpiblend" in out, out[-2000:]
print("ok: the control configures")

other = os.environ.get("MPB_OTHER_HDF5_PKG", "")
if other:
    rc, out = configure("other_mpi", f"-DMPB_HDF5_PKG={other}")
    assert rc != 0, out[-2000:]
    assert "No usable HDF5" in out and f"pkg-config '{other}'" in out and \
        "uses another MPI library than mpiblend" in out, out[-2000:]
    # Both MPI libraries are named: Open MPI's libmpi.so.40 and MPICH's libmpich.
    assert "libmpi.so.40" in out and "libmpich.so" in out, out[-2000:]
    print(f"ok: {other} refused: " + out[out.index("No usable"):][:400])
else:
    print("note: no HDF5 of another MPI installed; the mismatch case was not run")

# A serial HDF5, as pkg-config would offer it: headers without H5_HAVE_PARALLEL.
fake = os.path.join(work, "serial-hdf5")
os.makedirs(os.path.join(fake, "include"))
os.makedirs(os.path.join(fake, "lib", "pkgconfig"))
with open(os.path.join(fake, "include", "hdf5.h"), "w") as f:
    f.write("#define H5_VERSION_GE(a, b, c) 1\ntypedef long hid_t;\n")
with open(os.path.join(fake, "lib", "pkgconfig", "hdf5-serial-test.pc"), "w") as f:
    f.write(f"prefix={fake}\nName: hdf5\nDescription: serial\nVersion: 1.14.3\n"
            f"Cflags: -I{fake}/include\nLibs:\n")
rc, out = configure("serial", "-DMPB_HDF5_PKG=hdf5-serial-test",
                    env={"PKG_CONFIG_PATH": os.path.join(fake, "lib", "pkgconfig")})
assert rc != 0 and "it is a serial build (H5_HAVE_PARALLEL is not defined)" in out, out[-2000:]
print("ok: serial HDF5 refused: " + out[out.index("No usable"):][:300])
print("configure-time refusals passed")
