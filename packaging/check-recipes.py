#!/usr/bin/env python3
"""Exercises the packaging recipes where neither Spack nor EasyBuild is
installed: runs the Spack recipe's own code (cmake_args and its test_*
methods) against a small stand-in for `spack.package`, and the easyconfig's
configopts, sanity_check_paths and sanity_check_commands; each configures,
builds and installs this source into a scratch prefix with exactly those
CMake arguments.

  packaging/check-recipes.py --hdf5-root PREFIX [--mpicc mpicc] [--mpi-bin DIR] WORK

--hdf5-root stands for spec["hdf5"].prefix and $EBROOTHDF5, --mpicc for
spec["mpi"].mpicc, --mpi-bin for spec["mpi"].prefix.bin (its mpiexec runs
the smoke test)."""
import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)


class Prefix(str):
    """A path whose attributes are its children, as Spack's prefixes are."""
    def __getattr__(self, name):
        return Prefix(os.path.join(self, name))


class Executable:
    def __init__(self, path):
        self.path = path

    def __call__(self, *args, output=None, error=None):
        p = subprocess.run([self.path] + [str(a) for a in args], capture_output=True, text=True,
                           timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"{self.path} {' '.join(map(str, args))}: exit {p.returncode}\n"
                               f"{p.stdout}{p.stderr}")
        return p.stdout + p.stderr if output is str.split else None


def which(path, required=False):
    found = shutil.which(path)
    if found is None and required:
        raise RuntimeError(f"{path} not found")
    return Executable(found) if found else None


def spack_stand_in():
    """The names the recipe imports from spack.package."""
    m = types.ModuleType("spack.package")

    class CMakePackage:
        def define(self, name, value):
            if isinstance(value, bool):
                value = "ON" if value else "OFF"
            return f"-D{name}={value}"

        def define_from_variant(self, name, variant):
            return self.define(name, self.spec.variants[variant])

    m.CMakePackage = CMakePackage
    for directive in ("version", "variant", "depends_on", "conflicts", "maintainers", "license"):
        setattr(m, directive, lambda *a, **k: None)
    m.join_path, m.which, m.Executable = os.path.join, which, Executable
    sys.modules["spack"] = types.ModuleType("spack")
    sys.modules["spack.package"] = m


def build(name, args, work):
    build_dir, prefix = os.path.join(work, name + "-build"), os.path.join(work, name + "-prefix")
    print(f"== {name}: cmake {' '.join(args)}", flush=True)
    subprocess.run(["cmake", "-S", SOURCE, "-B", build_dir, f"-DCMAKE_INSTALL_PREFIX={prefix}"] +
                   args, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build_dir, f"-j{os.cpu_count()}"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--install", build_dir], check=True, stdout=subprocess.DEVNULL)
    return Prefix(prefix)


def check_spack(opts, work):
    spack_stand_in()
    ns = {}
    path = os.path.join(HERE, "spack", "packages", "mpiblend", "package.py")
    exec(compile(open(path).read(), path, "exec"), ns)
    pkg = ns["Mpiblend"]()
    pkg.spec = _Spec({"mpi": types.SimpleNamespace(mpicc=opts.mpicc,
                                                   prefix=Prefix(os.path.dirname(opts.mpi_bin))),
                      "hdf5": types.SimpleNamespace(prefix=Prefix(opts.hdf5_root))},
                     {"tests": False})
    pkg.prefix = build("spack", pkg.cmake_args(), work)
    tests = sorted(n for n in dir(pkg) if n.startswith("test_"))
    old = os.getcwd()
    for name in tests:
        with tempfile.TemporaryDirectory(dir=work) as stage:
            os.chdir(stage)
            getattr(pkg, name)()
            os.chdir(old)
        print(f"ok: spack recipe: {name} ({getattr(pkg, name).__doc__.strip()})")


class _Spec(dict):
    def __init__(self, deps, variants):
        super().__init__(deps)
        self.variants = variants


def check_easybuild(opts, work):
    path = os.path.join(HERE, "easybuild", "mpiblend-develop-gompi-2023a.eb")
    ec = {}
    exec(compile(open(path).read(), path, "exec"), ec)
    assert ec["easyblock"] == "CMakeMake" and ec["toolchain"]["name"] == "gompi", ec
    configopts = ec["configopts"].replace("$EBROOTHDF5", opts.hdf5_root)
    configopts = configopts.replace("-DMPI_C_COMPILER=mpicc", f"-DMPI_C_COMPILER={opts.mpicc}")
    prefix = build("easybuild", shlex.split(configopts), work)
    for kind in ("files", "dirs"):
        for rel in ec["sanity_check_paths"][kind]:
            assert os.path.exists(os.path.join(prefix, rel)), rel
    env = dict(os.environ, PATH=os.path.join(prefix, "bin") + os.pathsep + os.environ["PATH"])
    env.pop("LD_LIBRARY_PATH", None)  # the module would not set it for HDF5's prefix either
    for cmd in ec["sanity_check_commands"]:
        subprocess.run(cmd, shell=True, check=True, env=env, stdout=subprocess.DEVNULL)
    print(f"ok: easyconfig: sanity paths {ec['sanity_check_paths']['files']} present, "
          f"commands {ec['sanity_check_commands']} pass")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hdf5-root", required=True)
    ap.add_argument("--mpicc", default="mpicc")
    ap.add_argument("--mpi-bin", default="/usr/bin")
    ap.add_argument("work")
    opts = ap.parse_args()
    shutil.rmtree(opts.work, ignore_errors=True)
    os.makedirs(opts.work)
    check_spack(opts, opts.work)
    check_easybuild(opts, opts.work)


if __name__ == "__main__":
    main()
