# End-to-end runs under mpiexec, the way HDF5's parallel examples add them:
# the rank counts go through MPIEXEC_NUMPROC_FLAG and MPIEXEC_PREFLAGS.
set(MPB_WORK ${CMAKE_CURRENT_BINARY_DIR}/work)
file(MAKE_DIRECTORY ${MPB_WORK})
find_program(MPB_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)
string(REPLACE ";" " " MPB_PREFLAGS_TEXT "${MPIEXEC_PREFLAGS}")
set(MPB_PY_ENV ${MPB_TEST_ENV}
  "MPB_MPIEXEC=${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG}"
  "MPB_MPIEXEC_PREFLAGS=${MPB_PREFLAGS_TEXT}"
  PYTHONPATH=${CMAKE_CURRENT_SOURCE_DIR})

# mpb_py_test(NAME script args...): a Python end-to-end test.
function(mpb_py_test name script)
  add_test(NAME ${name} COMMAND ${MPB_PYTHON} ${script} ${ARGN})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${MPB_PY_ENV}" LABELS e2e)
endfunction()

# Inputs: three tiny Qwen3-shaped checkpoints.
set(_names a b c)
foreach(i RANGE 0 2)
  list(GET _names ${i} n)
  math(EXPR seed "${i} + 1")
  mpb_mpi_test(synth_${n} NP 2 COMMAND $<TARGET_FILE:mpiblend> synth --arch tiny
               --seed ${seed} --force --quiet ${MPB_WORK}/${n}.h5)
  set_tests_properties(synth_${n} PROPERTIES FIXTURES_SETUP tiny_inputs)
endforeach()

file(WRITE ${MPB_WORK}/interp.yaml
"merge_method: interpolate\nmodels:\n  - model: a.h5\n  - model: b.h5\nparameters:\n  lambda: 0.45\n")
file(WRITE ${MPB_WORK}/linear3.yaml
"merge_method: linear\nmodels:\n  - model: a.h5\n    parameters: {weight: 0.2}\n  - model: b.h5\n    parameters: {weight: 0.3}\n  - model: c.h5\n    parameters: {weight: 0.5}\nout_dtype: float32\n")
file(WRITE ${MPB_WORK}/unnorm.yaml
"merge_method: linear\nmodels:\n  - model: a.h5\n    parameters: {weight: 1.5}\n  - model: b.h5\n    parameters: {weight: -0.5}\nparameters:\n  normalize: false\nout_dtype: float16\n")

# mpb_merge_test(NAME NP n CONFIG c ARGS ...): one point of the merge matrix.
function(mpb_merge_test name np cfg)
  mpb_mpi_test(${name} NP ${np} COMMAND $<TARGET_FILE:mpiblend> merge ${MPB_WORK}/${cfg}.yaml
               --out ${MPB_WORK}/${name}.h5 --force --quiet ${ARGN})
  set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED tiny_inputs FIXTURES_SETUP merged)
endfunction()

# 1-4 ranks, both transfer modes, slabs small enough to split tensors
# (the 256 KiB embedding becomes 6 items at 48 KiB, 37 at 7 KiB).
# Collective rounds skip the MPI-IO library's collective call when every
# rank shares one node (--aggregate auto); the _aggregated points make it.
foreach(np 1 2 3 4)
  foreach(io collective independent)
    mpb_merge_test(interp_np${np}_${io} ${np} interp --io ${io} --slab-kib 48)
  endforeach()
endforeach()
foreach(np 3 4)
  mpb_merge_test(interp_np${np}_aggregated ${np} interp --io collective --aggregate on --slab-kib 48)
endforeach()
mpb_merge_test(interp_np2_default 2 interp)
mpb_merge_test(linear3_np1 1 linear3 --slab-kib 7)
mpb_merge_test(linear3_np3 3 linear3 --slab-kib 7 --io independent)
mpb_merge_test(unnorm_np2 2 unnorm --slab-kib 20)
mpb_merge_test(unnorm_np4 4 unnorm --slab-kib 100 --io independent)

mpb_py_test(check_merges ${CMAKE_CURRENT_SOURCE_DIR}/integration/check_merges.py ${MPB_WORK})
set_tests_properties(check_merges PROPERTIES FIXTURES_REQUIRED merged)
mpb_py_test(merge_errors ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_errors.py ${MPB_WORK})
mpb_py_test(synth_checks ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_synth.py ${MPB_WORK})
mpb_py_test(merge_layouts ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_layouts.py ${MPB_WORK})
mpb_py_test(provenance ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_provenance.py ${MPB_WORK})
