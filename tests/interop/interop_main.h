/* What every interop cmocka test shares: MPI up (the store and output code
 * make MPI calls, here on one rank), a fresh temporary folder, cleanup. */
#ifndef INTEROP_MAIN_H
#define INTEROP_MAIN_H

#include <stddef.h>

struct CMUnitTest;

/* tmp_dir is a mkdtemp() template, filled in before the tests run. */
int interop_main(int argc, char **argv, char *tmp_dir, const char *name,
                 const struct CMUnitTest *tests, size_t n);

#endif
