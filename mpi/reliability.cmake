# Reliability (docs/RELIABILITY.md): verify, diff and the merge's audit.
target_sources(mpb_mpi PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/mpb_audit.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_verify.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_verify_sums.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_verify_sample.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_diff.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_check_cli.c)
