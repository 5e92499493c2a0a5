# Installs the Plume build tree into a fresh prefix, then configures, builds and runs a C++
# example against that prefix the way an application would (find_package(plume)).
#   cmake -DPLUME_BUILD_DIR=... -DEXAMPLE_DIR=... -DWORK_DIR=... -DEXAMPLE_TARGET=...
#         [-DEXAMPLE_ARGS=--self-test] [-DCOMPILER_LAUNCHER=ccache] -P build_example.cmake
foreach(var PLUME_BUILD_DIR EXAMPLE_DIR WORK_DIR EXAMPLE_TARGET)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "${var} is required")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${status}): ${command}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")

run(${CMAKE_COMMAND} --install "${PLUME_BUILD_DIR}" --prefix "${prefix}")

set(configure_args -S "${EXAMPLE_DIR}" -B "${build}" -G Ninja
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix})
if(COMPILER_LAUNCHER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER})
endif()
run(${CMAKE_COMMAND} ${configure_args})
run(${CMAKE_COMMAND} --build "${build}")
run("${build}/${EXAMPLE_TARGET}" ${EXAMPLE_ARGS})
