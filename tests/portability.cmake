# Other stacks (docs/OPERATIONS.md, "Building on a cluster"): configure-time
# refusals of a mismatched HDF5, the run-time refusal of a lone rank, RPATHs
# of an installed binary, and 8 ranks off shared memory.

set(MPB_PORT_WORK ${CMAKE_CURRENT_BINARY_DIR}/work/portability)
file(MAKE_DIRECTORY ${MPB_PORT_WORK})
set(MPB_PORT_ENV ${MPB_PY_ENV}
  PYTHONPATH=${CMAKE_CURRENT_SOURCE_DIR}
  MPB_BUILD_DIR=${CMAKE_BINARY_DIR})

# mpb_port_test(NAME SCRIPT [ENV ...]): tests/portability/SCRIPT.py WORKDIR.
function(mpb_port_test name script)
  cmake_parse_arguments(T "" "" "ENV" ${ARGN})
  add_test(NAME ${name} COMMAND ${MPB_PYTHON}
    ${CMAKE_CURRENT_SOURCE_DIR}/portability/${script}.py ${MPB_PORT_WORK}/${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${MPB_PORT_ENV};${T_ENV}"
    LABELS "e2e;portability" TIMEOUT 900)
endfunction()

# The launcher of the other MPI family, when installed, starts this build's
# binary for real; without it, the launchers' variables are set by hand.
if(MPB_MPI_IS_OPENMPI)
  find_program(MPB_OTHER_MPIEXEC mpiexec.mpich)
  set(MPB_OTHER_HDF5_PKG hdf5-mpich)
else()
  find_program(MPB_OTHER_MPIEXEC mpiexec.openmpi)
  set(MPB_OTHER_HDF5_PKG hdf5-openmpi)
endif()
mark_as_advanced(MPB_OTHER_MPIEXEC)
mpb_port_test(port_lone_rank test_lone_rank ENV MPB_OTHER_MPIEXEC=${MPB_OTHER_MPIEXEC})

# Configure-time refusals: this source configured again with the same
# compiler against another MPI's HDF5 (when installed) and a serial HDF5.
if(PKG_CONFIG_FOUND)
  pkg_check_modules(MPB_OTHER_HDF5 QUIET ${MPB_OTHER_HDF5_PKG})
endif()
mpb_port_test(port_configure_refusals test_configure_refusals ENV
  MPB_C_COMPILER=${CMAKE_C_COMPILER} MPB_MPI_C_COMPILER=${MPI_C_COMPILER}
  MPB_OTHER_HDF5_PKG=$<$<BOOL:${MPB_OTHER_HDF5_FOUND}>:${MPB_OTHER_HDF5_PKG}>
  MPB_CMAKE=${CMAKE_COMMAND})
set_tests_properties(port_configure_refusals PROPERTIES LABELS "portability;configure")

# cmake --install into a scratch prefix; the binary runs without LD_LIBRARY_PATH.
mpb_port_test(port_install_rpath test_install_rpath ENV MPB_CMAKE=${CMAKE_COMMAND})

# 8 ranks with Open MPI's shared-memory transport off (MPICH: MPIR_CVAR_NOLOCAL).
mpb_port_test(port_many_ranks test_many_ranks)

# Tests that choose between Open MPI's two MPI-IO components (OMPIO, ROMIO)
# with --mca, or pass Open MPI's -x: other MPIs have ROMIO alone, which every
# other test exercises.
if(NOT MPB_MPI_IS_OPENMPI)
  set(_ompi_only rel_backends rel_big_tensor rel_romio_abort rel_romio_nonfinite
      romio_synth_checks)
  if(TEST romio_methods_e2e)
    list(APPEND _ompi_only romio_methods_e2e)
  endif()
  set_tests_properties(${_ompi_only} PROPERTIES DISABLED TRUE)
  list(JOIN _ompi_only ", " _ompi_only)
  message(STATUS "tests: skipped under ${MPB_MPI_FAMILY} (they select Open MPI's OMPIO or "
                 "ROMIO with --mca or pass its -x): ${_ompi_only}")
endif()
