mpb_unit_test(test_plan SOURCES test_plan.c LIBS mpb_mpi)
mpb_unit_test(test_crc32c SOURCES test_crc32c.c LIBS mpb_util)
mpb_unit_test(test_template SOURCES test_template.c LIBS mpb_util)
# The collective rounds and mpb_comm_agree with 1-4 ranks under mpiexec.
add_executable(test_collective test_collective.c)
target_link_libraries(test_collective PRIVATE mpb_mpi mpb::cmocka)
foreach(np 1 2 3 4)
  mpb_mpi_test(test_collective_np${np} NP ${np} COMMAND $<TARGET_FILE:test_collective>)
  # A rank that fails an assertion leaves the others in a collective.
  set_tests_properties(test_collective_np${np} PROPERTIES TIMEOUT 120 LABELS "mpi;unit")
endforeach()
# The layers of docs/DESIGN.md: no include points up a layer.
add_test(NAME layers COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/layers.py ${PROJECT_SOURCE_DIR})
set_tests_properties(layers PROPERTIES LABELS "unit")
