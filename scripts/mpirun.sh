#!/usr/bin/env bash
# mpirun that also works as root and with more ranks than cores, as on a
# workstation or a CI container.  On a cluster, call mpirun/srun directly.
export OMPI_MCA_rmaps_base_oversubscribe=1
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
exec mpirun "$@"
