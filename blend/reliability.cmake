# Reliability (docs/RELIABILITY.md): non-finite values and diff's comparison.
target_sources(mpb_blend PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/mpb_nonfinite.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_compare.c)
