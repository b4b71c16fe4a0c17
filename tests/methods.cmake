# Merge methods (blend/mpb_method*.c, commands/merge/; docs/METHODS.md).
mpb_unit_test(test_method_task SOURCES test_method_task.c LIBS mpb_blend)
mpb_unit_test(test_method_stats SOURCES test_method_stats.c LIBS mpb_blend)
mpb_unit_test(test_method_registry SOURCES test_method_registry.c LIBS mpb_blend)
mpb_unit_test(test_method_configs SOURCES test_method_configs.c LIBS mpb_io)
target_compile_definitions(test_method_configs PRIVATE
  MPB_CONFIGS_DIR="${PROJECT_SOURCE_DIR}/configs")

# End to end under mpiexec: every method on `tiny` inputs, 1-4 ranks, both
# I/O modes, against a numpy reference; the study configs on 36-layer inputs.
if(COMMAND mpb_py_test)
  set(MPB_METHODS_WORK ${CMAKE_CURRENT_BINARY_DIR}/work/methods)
  mpb_py_test(methods_e2e ${CMAKE_CURRENT_SOURCE_DIR}/methods/test_methods.py
              ${MPB_METHODS_WORK})
  mpb_py_test(methods_configs ${CMAKE_CURRENT_SOURCE_DIR}/methods/test_configs.py
              ${MPB_METHODS_WORK})
endif()

# mergekit's slices: (docs/CONFIG.md): outputs with more and fewer layers,
# mergekit's README examples as written, and the config errors.
if(COMMAND mpb_py_test)
  mpb_py_test(methods_slices ${CMAKE_CURRENT_SOURCE_DIR}/methods/test_slices.py
              ${MPB_METHODS_WORK})
endif()

# mergekit's modules: (docs/CONFIG.md): a tiny Qwen2-VL and a Mistral3
# merged per module against numpy, config.json's per-module layer counts,
# and the config errors.
if(COMMAND mpb_py_test)
  mpb_py_test(methods_modules ${CMAKE_CURRENT_SOURCE_DIR}/methods/test_modules.py
              ${MPB_METHODS_WORK})
endif()

# docs/METHODS.md "mergekit compatibility": every example its tables list
# (configs/mergekit-examples/) runs as written from a fake Hugging Face
# cache; supported ones merge, refused ones stop with the quoted message.
if(COMMAND mpb_py_test)
  mpb_py_test(methods_mergekit_examples
              ${CMAKE_CURRENT_SOURCE_DIR}/methods/test_mergekit_examples.py ${MPB_METHODS_WORK})
endif()
