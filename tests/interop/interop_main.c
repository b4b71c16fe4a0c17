#include "interop_main.h"

#include <mpi.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

int interop_main(int argc, char **argv, char *tmp_dir, const char *name,
                 const struct CMUnitTest *tests, size_t n)
{
    MPI_Init(&argc, &argv);
    int failed = 1;
    if (mkdtemp(tmp_dir) != NULL) {
        failed = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
        if (system(cmd) != 0)
            failed++;
    }
    MPI_Finalize();
    return failed;
}
