# Hugging Face interop (docs/INTEROP.md): cmocka units for the safetensors
# store, the model files and folder outputs; Python end-to-end runs under
# mpiexec for round trips, the shared real-world files, merges straight
# from folders, and bad input.
foreach(part hf_files store_st output_dir)
  mpb_unit_test(test_interop_${part} SOURCES interop/test_${part}.c interop/interop_main.c
    LIBS mpb_commands)
  set_tests_properties(test_interop_${part} PROPERTIES LABELS "unit;interop")
endforeach()

set(MPB_INTEROP_WORK ${CMAKE_CURRENT_BINARY_DIR}/interop_work)
file(MAKE_DIRECTORY ${MPB_INTEROP_WORK})
string(REPLACE ";" " " MPB_INTEROP_PREFLAGS "${MPIEXEC_PREFLAGS}")
set(MPB_INTEROP_ENV ${MPB_TEST_ENV}
  "MPB_MPIEXEC=${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG}"
  "MPB_MPIEXEC_PREFLAGS=${MPB_INTEROP_PREFLAGS}"
  PYTHONPATH=${CMAKE_CURRENT_SOURCE_DIR}:${CMAKE_CURRENT_SOURCE_DIR}/interop)
foreach(script roundtrip testdata merge_folders bad_input hf_cache tokenizer
    tokenizer_union)
  add_test(NAME interop_${script}
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_${script}.py
            ${MPB_INTEROP_WORK})
  set_tests_properties(interop_${script} PROPERTIES ENVIRONMENT "${MPB_INTEROP_ENV}"
    LABELS "e2e;interop" TIMEOUT 300)
endforeach()
