mpb_unit_test(test_plan SOURCES test_plan.c LIBS mpb_mpi)
mpb_unit_test(test_crc32c SOURCES test_crc32c.c LIBS mpb_util)
mpb_unit_test(test_template SOURCES test_template.c LIBS mpb_util)
