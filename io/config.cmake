# Merge configurations (docs/CONFIG.md): libyaml only, no HDF5 or MPI calls.
target_sources(mpb_io PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_yaml.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_parse.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_paths.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_values.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_validate.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_methods.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_params.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_layers.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_resolve.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_coef.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_filters.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_describe.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_files.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_hf_cache.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_config_access.c)
