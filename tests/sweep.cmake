# Sweeps, eval, refine, job scripts (docs/SWEEP.md).
mpb_unit_test(test_sweep_spec SOURCES test_sweep_spec.c LIBS mpb_io)

# End-to-end tests in Python (Debian's python3 with numpy and h5py).
find_program(MPB_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
string(REPLACE ";" " " MPB_SWEEP_PREFLAGS "${MPIEXEC_PREFLAGS}")
set(MPB_SWEEP_ENV ${MPB_TEST_ENV}
  "MPB_MPIEXEC=${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG}"
  "MPB_MPIEXEC_PREFLAGS=${MPB_SWEEP_PREFLAGS}"
  PYTHONPATH=${CMAKE_CURRENT_SOURCE_DIR})
foreach(suite sweep eval refine metrics jobs)
  add_test(NAME sweep_e2e_${suite}
    COMMAND ${MPB_PYTHON3} -m unittest -v test_${suite}
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/sweep)
  set_tests_properties(sweep_e2e_${suite} PROPERTIES
    ENVIRONMENT "${MPB_SWEEP_ENV}" LABELS "sweep;mpi")
endforeach()

# The end-to-end example on a real (tiny) language model, reduced
# (examples/reasoning/run.sh --quick: about 2 minutes on 2 free cores).
add_test(NAME example_reasoning
  COMMAND ${MPB_PYTHON3} -m unittest -v test_reasoning
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/sweep)
set_tests_properties(example_reasoning PROPERTIES
  ENVIRONMENT "${MPB_SWEEP_ENV};MPB_WORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/work"
  LABELS "sweep;mpi;example" TIMEOUT 1800)
