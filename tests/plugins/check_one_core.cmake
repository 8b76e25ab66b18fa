# One core per process: a backend plugin links libcppnn.so and defines none of the core's
# tables itself (no second op table, no second CPU kernel registry), and exports its entry
# point only (runtime/backend_plugin.h). ctest runs it on the CUDA plugin and the fake one.
#
#   cmake -DPLUGIN=<libfoo.so> -DNM=<nm> -P tests/plugins/check_one_core.cmake
cmake_minimum_required(VERSION 3.22)
execute_process(COMMAND ${NM} -C --defined-only ${PLUGIN}
  OUTPUT_VARIABLE defined RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} ${PLUGIN} failed: ${err}")
endif()
string(REGEX MATCHALL "[^\n]*([Oo][Pp][Tt][Aa][Bb][Ll][Ee]|[Cc][Pp][Uu][Kk][Ee][Rr][Nn][Ee][Ll][Rr][Ee][Gg][Ii][Ss][Tt][Rr][Yy])[^\n]*"
  copies "${defined}")
if(copies)
  list(JOIN copies "\n  " text)
  message(FATAL_ERROR "${PLUGIN} defines the core's tables itself (a second core in the "
    "process; it must use libcppnn.so's):\n  ${text}")
endif()
execute_process(COMMAND ${NM} -D --defined-only ${PLUGIN}
  OUTPUT_VARIABLE exported RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -D ${PLUGIN} failed: ${err}")
endif()
string(REGEX MATCHALL "[^\n]* [A-Za-z] ([^ \n]+)" lines "${exported}")
set(names)
foreach(line IN LISTS lines)
  string(REGEX REPLACE ".* [A-Za-z] " "" name "${line}")
  # The linker's version node (the version script's anonymous one has none).
  if(NOT name MATCHES "^(_init|_fini)$" AND NOT line MATCHES " A ")
    list(APPEND names ${name})
  endif()
endforeach()
if(NOT names STREQUAL "cppnn_backend_plugin")
  message(FATAL_ERROR "${PLUGIN} must export cppnn_backend_plugin only; it exports: ${names}")
endif()
message(STATUS "${PLUGIN}: no core tables of its own, exports cppnn_backend_plugin only")
