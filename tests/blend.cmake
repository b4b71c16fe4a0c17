# Unit tests of the blend module (blend/): conversions and the blend kernel.
mpb_unit_test(test_convert SOURCES test_convert.c LIBS mpb_blend)
mpb_unit_test(test_kernel SOURCES test_kernel.c LIBS mpb_blend)
# DARE's keep masks in blocks, every implementation (blend/mpb_random*.c).
mpb_unit_test(test_random SOURCES test_random.c LIBS mpb_blend)
# The exact accumulator behind column statistics (blend/mpb_exact_sum.c).
mpb_unit_test(test_exact_sum SOURCES test_exact_sum.c LIBS mpb_blend)
