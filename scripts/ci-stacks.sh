#!/usr/bin/env bash
# CI legs on the other stacks clusters have (docs/OPERATIONS.md, "Building
# on a cluster"), each in its own build folder, after the main suite:
#   mpich        Debian's MPICH (mpich, libmpich-dev, libhdf5-mpich-dev):
#                built with mpicc.mpich against h5pcc.mpich's HDF5, the whole
#                ctest suite under mpiexec.mpich; the tests that choose Open
#                MPI's MPI-IO components are skipped (the configure output
#                names them and says why).
#   hdf5-newest  the newest HDF5 API line, built once from
#                ../shared/hdf5-newest/ into $MPB_CACHE/hdf5-newest (outside
#                the clone; default ~/.cache/mpiblend), mpiblend built
#                against it through HDF5_ROOT with -DH5_NO_DEPRECATED_SYMBOLS,
#                its whole ctest suite under Open MPI.
# Each leg names its compiler and launcher (mpicc.mpich, mpiexec.openmpi,
# ...), so nothing depends on which MPI Debian's alternatives select.
#   scripts/ci-stacks.sh mpich|hdf5-newest [ctest arguments]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
leg="${1:?usage: ci-stacks.sh mpich|hdf5-newest [ctest arguments]}"
shift
# Left to the main leg, where they run once: the language-model example
# (label "example"), help and report formatting (label "ux"), and the
# tests that pick Open MPI's MPI-IO component by hand (label "romio": on
# MPICH, ROMIO is what every test uses anyway).
[ $# -gt 0 ] || set -- -j"$(nproc)" -LE "example|ux|romio"
start=$(date +%s)
step() { echo "== ci-stacks $leg [$(($(date +%s) - start)) s]: $*"; }

# Installing MPICH must leave plain mpicc/mpirun/h5pcc meaning Open MPI, as
# the main leg and the other scripts expect.
keep_openmpi_default() {
    local alt ompi
    for alt in $(update-alternatives --get-selections | awk '$3 ~ /mpich/ {print $1}'); do
        ompi=$(update-alternatives --list "$alt" | grep -m1 openmpi) || continue
        update-alternatives --set "$alt" "$ompi" >/dev/null
    done
}

case "$leg" in
mpich)
    MPB_EXTRA_PACKAGES="mpich libmpich-dev libhdf5-mpich-dev ${MPB_EXTRA_PACKAGES:-}" \
        "$here/scripts/setup.sh"
    keep_openmpi_default
    build="${MPB_MPICH_BUILD_DIR:-$here/build-mpich}"
    args=(-DCMAKE_C_COMPILER=mpicc.mpich -DMPI_C_COMPILER=mpicc.mpich
          -DHDF5_C_COMPILER_EXECUTABLE=h5pcc.mpich
          -DMPIEXEC_EXECUTABLE="$(command -v mpiexec.mpich)")
    # MPICH's launcher first on PATH, as `module load mpich` would put it:
    # the job scripts in jobs/ call plain mpirun.  Scripts, not links: Hydra
    # finds its proxy next to the path it was started from.
    mkdir -p "$build/mpich-bin"
    for name in mpirun mpiexec; do
        printf '#!/bin/sh\nexec %s "$@"\n' "$(command -v mpiexec.mpich)" >"$build/mpich-bin/$name"
        chmod +x "$build/mpich-bin/$name"
    done
    export PATH="$build/mpich-bin:$PATH"
    ;;
hdf5-newest)
    MPB_EXTRA_PACKAGES="zlib1g-dev ${MPB_EXTRA_PACKAGES:-}" "$here/scripts/setup.sh"  # deflate
    prefix="${MPB_CACHE:-$HOME/.cache/mpiblend}/hdf5-newest"
    step "HDF5 (newest API line) into $prefix"
    "${MPB_HDF5_NEWEST_SRC:-$here/../shared/hdf5-newest}/build.sh" "$prefix" mpicc.openmpi
    build="${MPB_HDF5_NEWEST_BUILD_DIR:-$here/build-hdf5-newest}"
    args=(-DMPI_C_COMPILER=mpicc.openmpi -DHDF5_ROOT="$prefix"
          -DCMAKE_C_FLAGS=-DH5_NO_DEPRECATED_SYMBOLS
          -DMPIEXEC_EXECUTABLE="$(command -v mpiexec.openmpi)")
    ;;
*)
    echo "ci-stacks: unknown leg '$leg' (mpich, hdf5-newest)" >&2
    exit 2
    ;;
esac
step "configure and build in $build"
mkdir -p "$build"
if ! cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON \
        "${args[@]}" >"$build/configure.log" 2>&1; then
    cat "$build/configure.log" >&2
    exit 1
fi
grep -E "^-- (HDF5|tests):" "$build/configure.log" || true
cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 || { tail -40 "$build/build.log" >&2; exit 1; }
if grep -E "warning:" "$build/build.log"; then
    echo "ci-stacks: the build warned (above)" >&2
    exit 1
fi
step "ctest"
(cd "$build" && ctest --output-on-failure "$@")
step "done"
