target_sources(mpb_io PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/mpb_index.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_h5_types.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_h5_index.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_h5_file.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_io_hints.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_arch.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_store_h5.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_h5_attrs.c)
# Reliability (docs/RELIABILITY.md): data checksums and disk-space claims.
target_sources(mpb_io PRIVATE ${CMAKE_CURRENT_LIST_DIR}/mpb_checksum.c)
target_sources(mpb_io PRIVATE ${CMAKE_CURRENT_LIST_DIR}/mpb_space.c)
