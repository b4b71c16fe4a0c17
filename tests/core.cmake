mpb_unit_test(test_plan SOURCES test_plan.c LIBS mpb_mpi)
