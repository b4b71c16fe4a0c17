# safetensors format module: cmocka tests and the libFuzzer target.
foreach(part data header folder write)
  mpb_unit_test(test_safetensors_${part}
    SOURCES test_safetensors_${part}.c test_safetensors_util.c
    LIBS mpb_io)
endforeach()

# scripts/fuzz.sh configures a separate clang build with this on.
option(MPB_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
if(MPB_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MPB_FUZZ=ON needs clang: configure with -DCMAKE_C_COMPILER=clang")
  endif()
  # Compiled here, not taken from mpb_io, so the fuzzed code is instrumented
  # and the target needs neither MPI nor HDF5.
  get_property(st_sources GLOBAL PROPERTY MPB_SAFETENSORS_SOURCES)
  add_executable(fuzz_safetensors fuzz/fuzz_safetensors.c ${st_sources}
    ${PROJECT_SOURCE_DIR}/blend/mpb_dtype.c ${PROJECT_SOURCE_DIR}/util/mpb_error.c
    ${PROJECT_SOURCE_DIR}/util/mpb_file.c)
  target_include_directories(fuzz_safetensors PRIVATE
    ${PROJECT_SOURCE_DIR}/io ${PROJECT_SOURCE_DIR}/blend ${PROJECT_SOURCE_DIR}/util)
  target_link_libraries(fuzz_safetensors PRIVATE mpb::jansson)
  set(fuzz_flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
  target_compile_options(fuzz_safetensors PRIVATE ${fuzz_flags} -fno-omit-frame-pointer)
  target_link_options(fuzz_safetensors PRIVATE ${fuzz_flags})
  # scripts/fuzz.sh looks for every fuzz target here.
  set_target_properties(fuzz_safetensors PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
endif()
