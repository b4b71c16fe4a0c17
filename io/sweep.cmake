# Parameter sweeps (docs/SWEEP.md): the sweep section, manifests, checksums.
target_sources(mpb_io PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_parse.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_name.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_emit.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_checksum.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_manifest.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_scores.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_attr.c)
