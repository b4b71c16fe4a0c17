# Reliability (docs/RELIABILITY.md): fault injection, bad input, resource
# limits, both MPI-IO backends, integrity checks, security, and the config
# fuzzer.  Every guarantee in docs/RELIABILITY.md names its test here.

# Pure parts: non-finite values, diff's comparison, checksums, disk claims.
mpb_unit_test(test_nonfinite SOURCES test_nonfinite.c LIBS mpb_blend)
mpb_unit_test(test_compare SOURCES test_compare.c LIBS mpb_blend)
mpb_unit_test(test_checksum SOURCES test_checksum.c LIBS mpb_io)
add_test(NAME test_checksum_long COMMAND test_checksum long)
set_tests_properties(test_checksum_long PROPERTIES ENVIRONMENT "${MPB_TEST_ENV}" LABELS unit)
mpb_unit_test(test_space SOURCES test_space.c LIBS mpb_io)

# LD_PRELOAD shim recording each process's largest MPI-IO transfer and its
# collective MPI-IO calls.
add_library(mpb_transfer_log MODULE reliability/transfer_log.c)
target_link_libraries(mpb_transfer_log PRIVATE MPI::MPI_C)

set(MPB_REL_WORK ${CMAKE_CURRENT_BINARY_DIR}/work/reliability)
file(MAKE_DIRECTORY ${MPB_REL_WORK})
set(MPB_REL_ENV ${MPB_PY_ENV}
  PYTHONPATH=${CMAKE_CURRENT_SOURCE_DIR}:${CMAKE_CURRENT_SOURCE_DIR}/reliability:${CMAKE_CURRENT_SOURCE_DIR}/sweep
  MPB_TRANSFER_SHIM=$<TARGET_FILE:mpb_transfer_log>)

# mpb_rel_test(NAME SCRIPT [LABELS ...]): tests/reliability/SCRIPT.py; exit
# 77 marks a case this machine cannot set up (mounts, other users) as skipped.
function(mpb_rel_test name script)
  cmake_parse_arguments(T "" "" "LABELS;ENV" ${ARGN})
  add_test(NAME ${name}
    COMMAND ${MPB_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/reliability/${script}.py
            ${MPB_REL_WORK}/${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${MPB_REL_ENV};${T_ENV}"
    LABELS "e2e;reliability;${T_LABELS}" SKIP_RETURN_CODE 77 TIMEOUT 900)
endfunction()

mpb_rel_test(rel_abort test_abort)
mpb_rel_test(rel_readonly_output test_readonly_output)
mpb_rel_test(rel_unreadable_input test_unreadable_input)
mpb_rel_test(rel_bad_inputs test_bad_inputs)
mpb_rel_test(rel_security test_security)
mpb_rel_test(rel_backends test_backends)
mpb_rel_test(rel_verify_diff test_verify_diff)
mpb_rel_test(rel_big_tensor test_big_tensor LABELS slow)
mpb_rel_test(rel_collective_rounds test_collective_rounds)
mpb_rel_test(rel_disk_full test_disk_full)
mpb_rel_test(rel_provenance test_provenance)
mpb_rel_test(rel_nonfinite test_nonfinite)
# Tests that mount file systems run one at a time.
set_tests_properties(rel_readonly_output rel_disk_full PROPERTIES RESOURCE_LOCK mounts)

# The same end-to-end suites through ROMIO (OMPIO is Open MPI's default).
set(MPB_ROMIO_ENV "MPB_MPIEXEC_PREFLAGS=${MPB_PREFLAGS_TEXT} --mca io romio321")
mpb_rel_test(rel_romio_abort test_abort ENV ${MPB_ROMIO_ENV} LABELS romio)
mpb_rel_test(rel_romio_nonfinite test_nonfinite ENV ${MPB_ROMIO_ENV} LABELS romio)
add_test(NAME romio_synth_checks COMMAND ${MPB_PYTHON}
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_synth.py ${MPB_REL_WORK}/romio)
set_tests_properties(romio_synth_checks PROPERTIES
  ENVIRONMENT "${MPB_PY_ENV};${MPB_ROMIO_ENV}" LABELS "e2e;romio")
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/methods/test_methods.py)
  add_test(NAME romio_methods_e2e COMMAND ${MPB_PYTHON}
    ${CMAKE_CURRENT_SOURCE_DIR}/methods/test_methods.py ${MPB_REL_WORK}/romio_methods)
  set_tests_properties(romio_methods_e2e PROPERTIES
    ENVIRONMENT "${MPB_PY_ENV};${MPB_ROMIO_ENV}" LABELS "e2e;romio")
endif()

# libFuzzer target for the config loader, next to fuzz_safetensors
# (tests/safetensors.cmake defines MPB_FUZZ; scripts/fuzz.sh config).
if(MPB_FUZZ)
  # The loader's sources and util's, compiled here so they are instrumented.
  get_target_property(_io_sources mpb_io SOURCES)
  # (mpb_arch_modules*: the modular architectures `modules:` binds against)
  list(FILTER _io_sources INCLUDE REGEX
       "(^|/)(mpb_config_[a-z_]+|mpb_hf_cache|mpb_chat_templates|mpb_index|mpb_arch_modules[a-z_]*)\\.c$")
  list(TRANSFORM _io_sources PREPEND ${PROJECT_SOURCE_DIR}/io/ REGEX "^[^/]")
  get_target_property(_util_sources mpb_util SOURCES)
  list(TRANSFORM _util_sources PREPEND ${PROJECT_SOURCE_DIR}/util/ REGEX "^[^/]")
  # The method registry the loader asks, with what its entries call,
  # instrumented too; the kernels they reach come from mpb_blend as built.
  get_target_property(_blend_sources mpb_blend SOURCES)
  list(FILTER _blend_sources INCLUDE REGEX
       "(^|/)(mpb_registry|mpb_method_[a-z_]+|mpb_convert|mpb_random|mpb_dtype)\\.c$")
  list(TRANSFORM _blend_sources PREPEND ${PROJECT_SOURCE_DIR}/blend/ REGEX "^[^/]")
  add_executable(fuzz_config fuzz/fuzz_config.c ${_io_sources} ${_util_sources}
    ${_blend_sources})
  target_include_directories(fuzz_config PRIVATE
    ${PROJECT_SOURCE_DIR}/io ${PROJECT_SOURCE_DIR}/blend ${PROJECT_SOURCE_DIR}/util)
  target_link_libraries(fuzz_config PRIVATE mpb_blend mpb::yaml mpb::jansson ${MATH_LIBRARY})
  set(_fuzz_flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
  target_compile_options(fuzz_config PRIVATE ${_fuzz_flags} -fno-omit-frame-pointer)
  target_link_options(fuzz_config PRIVATE ${_fuzz_flags})
  set_target_properties(fuzz_config PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
endif()

# Issue 17: nothing lost when the user errs or the node dies
# (docs/RELIABILITY.md, "User errors", "Durable outputs", "Locks").
mpb_rel_test(rel_inputs_safe test_inputs_safe)
mpb_rel_test(rel_durable_order test_durable_order)
mpb_rel_test(rel_durable test_durable)
mpb_rel_test(rel_lock test_lock)
mpb_rel_test(rel_eval_shell test_eval_shell)
mpb_rel_test(rel_silent_drops test_silent_drops)
mpb_rel_test(rel_coefficients test_coefficients)
mpb_rel_test(rel_limits test_limits)
