# Operator experience (issue 8): help and its completeness against the
# option table, progress lines in batch logs, inspect, distance, dry-run
# totals against real merges, and the installed layout.  Python end-to-end
# tests under mpiexec; they share tests/mpbtest.py with every Python suite.
foreach(part help methods_docs progress inspect distance dry_run)
  mpb_py_test(ux_${part} ${CMAKE_CURRENT_SOURCE_DIR}/ux/test_${part}.py ${MPB_WORK})
  set_tests_properties(ux_${part} PROPERTIES LABELS "e2e;ux" TIMEOUT 300)
endforeach()
mpb_py_test(ux_install ${CMAKE_CURRENT_SOURCE_DIR}/ux/test_install.py
  ${CMAKE_COMMAND} ${CMAKE_BINARY_DIR} ${MPB_WORK})
set_tests_properties(ux_install PROPERTIES LABELS "e2e;ux")
