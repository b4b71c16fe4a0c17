# safetensors reader, sharded-folder discovery and writer helpers.
set(MPB_SAFETENSORS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/mpb_safetensors_shape.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_safetensors_header.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_safetensors_open.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_safetensors_index.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_safetensors_model.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_safetensors_write.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_safetensors_index_write.c)
target_sources(mpb_io PRIVATE ${MPB_SAFETENSORS_SOURCES})
# The fuzz target (tests/safetensors.cmake) compiles these itself, instrumented.
set_property(GLOBAL PROPERTY MPB_SAFETENSORS_SOURCES ${MPB_SAFETENSORS_SOURCES})
