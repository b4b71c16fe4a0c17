# Merge-config tests (io/mpb_config*.c); plain C, no MPI launch needed.
mpb_unit_test(test_config_parse SOURCES test_config_parse.c LIBS mpb_io)
mpb_unit_test(test_config_resolve SOURCES test_config_resolve.c LIBS mpb_io)
mpb_unit_test(test_config_files SOURCES test_config_files.c LIBS mpb_io)
