# libcppnn.so exports cppnn's own symbols only (cmake/libcppnn.map): a standard-library
# symbol exported from it can be bound by a plugin in place of libstdc++'s, which crashed the
# Python module's first CUDA compile on the GPU machine. ctest runs it on the built core.
#
#   cmake -DCORE=<libcppnn.so> -DNM=<nm> -P tests/plugins/check_core_exports.cmake
cmake_minimum_required(VERSION 3.22)
execute_process(COMMAND ${NM} -D -C --defined-only ${CORE}
  OUTPUT_VARIABLE exported RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -D ${CORE} failed: ${err}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${exported}")
set(foreign)
set(count 0)
foreach(line IN LISTS lines)
  # "<address> <type> <name>"; absolute symbols (type A) are the version nodes.
  if(line MATCHES "^[0-9a-f]+ A ")
    continue()
  endif()
  math(EXPR count "${count} + 1")
  string(REGEX REPLACE "^[0-9a-f]+ [A-Za-z] " "" name "${line}")
  if(NOT name MATCHES "^((vtable|VTT|typeinfo|typeinfo name|guard variable) for )?cppnn::")
    list(APPEND foreign "${name}")
  endif()
endforeach()
if(count LESS 100)
  message(FATAL_ERROR "${CORE} exports ${count} symbols: too few for the core, is it the right file?")
endif()
if(foreign)
  list(LENGTH foreign n)
  list(SUBLIST foreign 0 20 shown)
  list(JOIN shown "\n  " text)
  message(FATAL_ERROR "${CORE} exports ${n} symbols that are not cppnn's (cmake/libcppnn.map):\n  ${text}")
endif()
message(STATUS "${CORE}: ${count} exported symbols, all cppnn's")
