# Spack recipe for mpiblend (packaging/README.md).  Use it from a clone:
#   spack repo add packaging/spack
#   spack dev-build mpiblend@develop ^openmpi     (or spack develop + install)
import os

from spack.package import *


class Mpiblend(CMakePackage):
    """Blends large-model checkpoints (mergekit-style YAML configs, safetensors
    and HDF5) under MPI with parallel HDF5: every rank reads, blends and
    writes its share, bitwise identical for any rank count."""

    # No public page or release archive yet: README.md in the source.
    # Built from a local clone (spack dev-build / spack develop).
    version("develop")

    variant("tests", default=False,
            description="Build the unit and end-to-end tests (ctest; needs cmocka, and "
                        "python3 with numpy and h5py to run the end-to-end ones)")

    depends_on("cmake@3.25:", type="build")
    depends_on("pkgconfig", type="build")
    depends_on("mpi")
    depends_on("hdf5+mpi@1.10:")
    depends_on("libyaml")
    depends_on("jansson")
    depends_on("cmocka", when="+tests")

    def cmake_args(self):
        spec = self.spec
        return [
            self.define_from_variant("BUILD_TESTING", "tests"),
            # HDF5 and mpiblend must use the same MPI; CMake checks it too.
            self.define("MPI_C_COMPILER", spec["mpi"].mpicc),
            self.define("HDF5_ROOT", spec["hdf5"].prefix),
        ]

    def _launcher(self):
        """The MPI launcher Spack's MPI provides (srun where it has none)."""
        for name in ("mpiexec", "mpirun"):
            path = join_path(self.spec["mpi"].prefix.bin, name)
            if os.path.exists(path):
                return Executable(path)
        return which("srun", required=True)

    def test_version(self):
        """mpiblend --version names the HDF5 and MPI it runs with"""
        mpiblend = which(self.prefix.bin.mpiblend, required=True)
        out = mpiblend("--version", output=str.split, error=str.split)
        assert "mpiblend" in out and "HDF5" in out, out

    def test_merge_two_ranks(self):
        """2 ranks: synth two checkpoints, merge them, verify the merge"""
        mpiblend = self.prefix.bin.mpiblend
        launch = self._launcher()
        # Open MPI on a test machine: root and more ranks than cores allowed.
        os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        os.environ.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
        for seed, name in (("1", "a.h5"), ("2", "b.h5")):
            launch("-n", "2", mpiblend, "synth", "--arch", "tiny", "--seed", seed, "--force",
                   "--quiet", name)
        with open("interp.yaml", "w") as f:
            f.write("merge_method: interpolate\nmodels:\n  - model: a.h5\n  - model: b.h5\n"
                    "parameters:\n  lambda: 0.45\n")
        launch("-n", "2", mpiblend, "merge", "interp.yaml", "--out", "out.h5", "--force",
               "--quiet")
        out = launch("-n", "2", mpiblend, "verify", "out.h5", "--config", "interp.yaml",
                     output=str.split, error=str.split)
        assert "verify: ok" in out, out
