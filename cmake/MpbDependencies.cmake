# The libraries mpiblend builds on, found the way HPC sites provide them
# (docs/OPERATIONS.md, "Building on a cluster"):
#   MPI     CMake's FindMPI: MPI_C_COMPILER, the compiler itself (Cray's cc), PATH.
#   HDF5    CMake's FindHDF5 (HDF5_ROOT, HDF5's CMake package files, h5pcc or
#           the compiler itself as wrapper), then pkg-config (hdf5-openmpi,
#           hdf5-mpich, hdf5); MPB_HDF5_PKG=NAME picks a pkg-config name.
#   libyaml, jansson, cmocka   pkg-config, then headers and libraries under
#           CMAKE_PREFIX_PATH or YAML_ROOT / JANSSON_ROOT / CMOCKA_ROOT.
# HDF5 must be a parallel build (1.10 or later) linked against the same MPI
# library as mpiblend: checked by compiling and linking a program with both
# and listing the MPI libraries it loads.  Defines mpb::hdf5, mpb::yaml,
# mpb::jansson (and mpb::cmocka through mpb_find_cmocka()).

find_package(MPI REQUIRED COMPONENTS C)
if(MPI_C_VERSION VERSION_LESS 3.0)
  message(FATAL_ERROR "mpiblend needs an MPI-3 library; ${MPI_C_COMPILER} provides MPI "
                      "${MPI_C_VERSION}")
endif()
# Which family: it orders the pkg-config names and names the MPI in messages.
include(CheckSymbolExists)
set(CMAKE_REQUIRED_LIBRARIES MPI::MPI_C)
set(CMAKE_REQUIRED_QUIET ON)
check_symbol_exists(OMPI_MAJOR_VERSION mpi.h MPB_MPI_IS_OPENMPI)
check_symbol_exists(MPICH_VERSION mpi.h MPB_MPI_IS_MPICH)
unset(CMAKE_REQUIRED_LIBRARIES)
unset(CMAKE_REQUIRED_QUIET)
if(MPB_MPI_IS_OPENMPI)
  set(MPB_MPI_FAMILY "Open MPI")
elseif(MPB_MPI_IS_MPICH)
  set(MPB_MPI_FAMILY "MPICH family")
else()
  set(MPB_MPI_FAMILY "MPI")
endif()
find_package(PkgConfig QUIET)
find_program(MPB_LDD ldd)
mark_as_advanced(MPB_LDD)
set(MPB_HDF5_PKG "" CACHE STRING
    "pkg-config name of the parallel HDF5 to use (e.g. hdf5-mpich); empty: CMake's FindHDF5 first")

# mpb_find_library(TARGET PKG name HEADER file NAMES lib...): a pkg-config
# module, else a header and a library found under the usual prefixes.
function(mpb_find_library target)
  cmake_parse_arguments(L "" "PKG;HEADER;ROOT" "NAMES" ${ARGN})
  if(TARGET ${target})
    return()
  endif()
  string(MAKE_C_IDENTIFIER "MPB_${L_ROOT}" var)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(${var} QUIET IMPORTED_TARGET GLOBAL ${L_PKG})
  endif()
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  if(${var}_FOUND)
    target_link_libraries(${target} INTERFACE PkgConfig::${var})
    message(STATUS "${L_PKG} ${${var}_VERSION}: pkg-config (${${var}_LINK_LIBRARIES})")
    return()
  endif()
  set(hints ${${L_ROOT}_ROOT} $ENV{${L_ROOT}_ROOT})
  find_path(${var}_INCLUDE_DIR ${L_HEADER} HINTS ${hints} PATH_SUFFIXES include)
  find_library(${var}_LIBRARY NAMES ${L_NAMES} HINTS ${hints} PATH_SUFFIXES lib lib64)
  if(NOT ${var}_INCLUDE_DIR OR NOT ${var}_LIBRARY)
    message(FATAL_ERROR "${L_PKG} not found: neither pkg-config's '${L_PKG}' nor ${L_HEADER} "
                        "and lib${L_NAMES} under CMAKE_PREFIX_PATH or ${L_ROOT}_ROOT")
  endif()
  target_include_directories(${target} INTERFACE ${${var}_INCLUDE_DIR})
  target_link_libraries(${target} INTERFACE ${${var}_LIBRARY})
  message(STATUS "${L_PKG}: ${${var}_LIBRARY}")
endfunction()

function(mpb_find_cmocka)
  mpb_find_library(mpb::cmocka PKG cmocka HEADER cmocka.h NAMES cmocka ROOT CMOCKA)
endfunction()

# The MPI libraries (real paths) a program loads, listed by ldd.
function(mpb_mpi_libraries_loaded program out)
  execute_process(COMMAND ${MPB_LDD} ${program} OUTPUT_VARIABLE listing
                  RESULT_VARIABLE failed ERROR_QUIET)
  set(found "")
  if(NOT failed)
    string(REGEX MATCHALL "[^\n]+" lines "${listing}")
    foreach(line IN LISTS lines)
      # libmpi.so.40 (Open MPI), libmpich.so.12 (MPICH), libmpi_cray.so.12, ...;
      # not the Fortran and C++ bindings next to them.
      if(line MATCHES "^[ \t]*lib(mpi|mpich)(_[a-z0-9]+)?\\.so[.0-9]* => ([^ ]+)")
        set(path "${CMAKE_MATCH_3}")
        if(NOT CMAKE_MATCH_2 MATCHES "^_(cxx|fort|f08|usempi|mpifh)")
          file(REAL_PATH "${path}" real)
          list(APPEND found "${real}")
        endif()
      endif()
    endforeach()
    list(REMOVE_DUPLICATES found)
  endif()
  set(${out} "${found}" PARENT_SCOPE)
endfunction()

# Checks that `candidate` (a target) is a parallel HDF5 1.10+ that links with
# mpiblend's MPI and loads no other MPI library.  Sets `out` to "" when it
# is, else to the reason it is not.
function(mpb_check_hdf5 candidate out)
  set(dir ${CMAKE_BINARY_DIR}/CMakeFiles/mpb_hdf5_check)
  file(WRITE ${dir}/mpi_only.c
    "#include <mpi.h>\nint main(int c, char **v) { MPI_Init(&c, &v); return MPI_Finalize(); }\n")
  file(WRITE ${dir}/with_hdf5.c [=[
#include <hdf5.h>
#include <mpi.h>
#ifndef H5_HAVE_PARALLEL
#error MPB_HDF5_NOT_PARALLEL
#endif
#if !H5_VERSION_GE(1, 10, 0)
#error MPB_HDF5_TOO_OLD
#endif
int main(int c, char **v)
{
    MPI_Init(&c, &v);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    H5Pclose(fapl);
    return MPI_Finalize();
}
]=])
  try_compile(mpi_ok ${dir}/mpi_only SOURCES ${dir}/mpi_only.c
              LINK_LIBRARIES MPI::MPI_C COPY_FILE ${dir}/mpi_only.exe)
  try_compile(both_ok ${dir}/with_hdf5 SOURCES ${dir}/with_hdf5.c
              LINK_LIBRARIES ${candidate} MPI::MPI_C
              OUTPUT_VARIABLE log COPY_FILE ${dir}/with_hdf5.exe)
  if(NOT both_ok)
    if(log MATCHES "MPB_HDF5_NOT_PARALLEL")
      string(CONCAT why "it is a serial build (H5_HAVE_PARALLEL is not defined); mpiblend needs "
                 "HDF5 built with parallel I/O (--enable-parallel, HDF5_ENABLE_PARALLEL, "
                 "Spack's hdf5+mpi)" )
      set(${out} "${why}" PARENT_SCOPE)
    elseif(log MATCHES "MPB_HDF5_TOO_OLD")
      set(${out} "it is older than 1.10" PARENT_SCOPE)
    else()
      string(REGEX MATCHALL "[^\n]*(error|undefined reference)[^\n]*" errors "${log}")
      list(SUBLIST errors 0 4 errors)
      list(JOIN errors "\n  " errors)
      if(log MATCHES "undefined reference")
        set(why "HDF5 may have been built with another MPI")
      else()
        set(why "its headers do not compile with these flags")
      endif()
      string(CONCAT why "a program using it and MPI (${MPI_C_COMPILER}) does not build; "
                 "${why}:\n  ${errors}")
      set(${out} "${why}" PARENT_SCOPE)
    endif()
    return()
  endif()
  if(NOT MPB_LDD OR NOT mpi_ok)
    message(STATUS "HDF5: links with MPI; no ldd to compare the MPI libraries it loads")
    set(${out} "" PARENT_SCOPE)
    return()
  endif()
  mpb_mpi_libraries_loaded(${dir}/mpi_only.exe ours)
  mpb_mpi_libraries_loaded(${dir}/with_hdf5.exe all)
  set(theirs ${all})
  if(ours)
    list(REMOVE_ITEM theirs ${ours})
  endif()
  if(theirs)
    list(JOIN ours ", " ours)
    list(JOIN theirs ", " theirs)
    string(CONCAT why "it uses another MPI library than mpiblend: HDF5 loads ${theirs}, while "
               "mpiblend's MPI (${MPB_MPI_FAMILY}, ${MPI_C_COMPILER}) is ${ours}")
    set(${out} "${why}" PARENT_SCOPE)
    return()
  endif()
  set(${out} "" PARENT_SCOPE)
endfunction()

# Candidates in order, each a target; the first that passes mpb_check_hdf5
# is mpb::hdf5.  A choice the user made (MPB_HDF5_PKG, HDF5_ROOT, an h5pcc
# named with HDF5_C_COMPILER_EXECUTABLE) is the only candidate.
set(_hdf5_candidates "")
set(_hdf5_explicit OFF)
if(HDF5_ROOT OR DEFINED ENV{HDF5_ROOT} OR HDF5_C_COMPILER_EXECUTABLE)
  set(_hdf5_explicit ON)
endif()
if(NOT MPB_HDF5_PKG)
  set(HDF5_PREFER_PARALLEL TRUE)
  find_package(HDF5 COMPONENTS C)
  # HDF5's own package files (1.14 and later) hand their build's feature
  # macros (_GNU_SOURCE, ...) to every user; mpiblend's sources choose their
  # own, so only HDF5's H5_* definitions are kept.
  foreach(_lib IN LISTS HDF5_LIBRARIES)
    if(TARGET ${_lib})
      get_target_property(_defs ${_lib} INTERFACE_COMPILE_DEFINITIONS)
      if(_defs)
        list(FILTER _defs INCLUDE REGEX "^H5_")
        set_target_properties(${_lib} PROPERTIES INTERFACE_COMPILE_DEFINITIONS "${_defs}")
      endif()
    endif()
  endforeach()
  if(HDF5_FOUND AND TARGET HDF5::HDF5)
    list(APPEND _hdf5_candidates HDF5::HDF5)
    list(GET HDF5_LIBRARIES 0 _lib)
    if(TARGET ${_lib}) # from HDF5's own CMake package files
      get_target_property(_lib ${_lib} LOCATION)
    endif()
    set(_hdf5_how_HDF5::HDF5 "CMake's FindHDF5 (HDF5 ${HDF5_VERSION}, ${_lib})")
  endif()
endif()
if(PKG_CONFIG_FOUND AND (MPB_HDF5_PKG OR NOT _hdf5_explicit))
  if(MPB_HDF5_PKG)
    set(_names ${MPB_HDF5_PKG})
  elseif(MPB_MPI_IS_MPICH)
    set(_names hdf5-mpich hdf5 hdf5-openmpi)
  else()
    set(_names hdf5-openmpi hdf5 hdf5-mpich)
  endif()
  foreach(_name IN LISTS _names)
    string(MAKE_C_IDENTIFIER "MPB_PC_${_name}" _var)
    pkg_check_modules(${_var} QUIET IMPORTED_TARGET GLOBAL ${_name})
    if(${_var}_FOUND)
      list(APPEND _hdf5_candidates PkgConfig::${_var})
      set(_how "pkg-config '${_name}' (HDF5 ${${_var}_VERSION}")
      if(${_var}_LINK_LIBRARIES)
        list(GET ${_var}_LINK_LIBRARIES 0 _lib)
        string(APPEND _how ", ${_lib}")
      endif()
      set(_hdf5_how_PkgConfig::${_var} "${_how})")
    endif()
  endforeach()
endif()
if(NOT _hdf5_candidates)
  message(FATAL_ERROR "HDF5 not found.  Point CMake at a parallel HDF5 (1.10 or later): "
                      "-DHDF5_ROOT=PREFIX, an h5pcc on PATH (module load hdf5), or "
                      "-DMPB_HDF5_PKG=NAME for a pkg-config file on PKG_CONFIG_PATH.")
endif()
set(_hdf5_refusals "")
foreach(_candidate IN LISTS _hdf5_candidates)
  mpb_check_hdf5(${_candidate} _why)
  if(NOT _why)
    add_library(mpb::hdf5 INTERFACE IMPORTED GLOBAL)
    target_link_libraries(mpb::hdf5 INTERFACE ${_candidate})
    message(STATUS "HDF5: ${_hdf5_how_${_candidate}}, parallel, same MPI as mpiblend")
    break()
  endif()
  string(APPEND _hdf5_refusals "\n- ${_hdf5_how_${_candidate}}: ${_why}")
  message(STATUS "HDF5: not ${_hdf5_how_${_candidate}}: ${_why}")
  if(_hdf5_explicit OR MPB_HDF5_PKG)
    break()
  endif()
endforeach()
if(NOT TARGET mpb::hdf5)
  message(FATAL_ERROR "No usable HDF5 for mpiblend:${_hdf5_refusals}\n"
                      "Use a parallel HDF5 built for the same MPI: -DHDF5_ROOT=PREFIX, "
                      "-DHDF5_C_COMPILER_EXECUTABLE=h5pcc of that MPI (Debian: h5pcc.openmpi, "
                      "h5pcc.mpich), or -DMPB_HDF5_PKG=NAME (Debian: hdf5-openmpi, hdf5-mpich); "
                      "or build with that HDF5's MPI compiler (-DMPI_C_COMPILER=...).")
endif()

mpb_find_library(mpb::yaml PKG yaml-0.1 HEADER yaml.h NAMES yaml ROOT YAML)
mpb_find_library(mpb::jansson PKG jansson HEADER jansson.h NAMES jansson ROOT JANSSON)
