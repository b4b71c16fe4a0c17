#!/usr/bin/env bash
# mpirun for one machine (a workstation, a VM, a CI container): works as
# root and with more ranks than cores, and starts fast.  On a cluster, call
# mpirun/srun directly.
export OMPI_MCA_rmaps_base_oversubscribe=1
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# Ranks on one node talk through shared memory (ob1 + vader).  Open MPI 4.1
# tries UCX first; where UCX finds no network it gives up after about 0.2 s
# per launch and falls back to ob1 anyway (docs/PERFORMANCE.md).  A value
# set by the caller wins.
export OMPI_MCA_pml="${OMPI_MCA_pml:-ob1}"
exec mpirun "$@"
