# The installed C++ package, used as a user would (ctest: package.consumer):
#   cmake --install BUILD --prefix WORK/prefix --component runtime, then dev;
#   a project outside the tree (tests/package/consumer) configured with find_package(cppnn)
#   against that prefix, built as C++17, run;
#   the same main.cpp compiled with `pkg-config --cflags --libs cppnn` and run.
# Arguments: -DBUILD=<build dir> -DSOURCE=<source dir> -DWORK=<scratch dir> -DCXX=<compiler>
cmake_minimum_required(VERSION 3.16)
file(REMOVE_RECURSE ${WORK})
set(prefix ${WORK}/prefix)
foreach(component runtime dev)
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${prefix} --component ${component}
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(rc)
    message(FATAL_ERROR "cmake --install --component ${component} failed: ${rc}")
  endif()
endforeach()
foreach(file lib/libcppnn.so include/cppnn/cppnn.h lib/cmake/cppnn/cppnnConfig.cmake
        lib/cmake/cppnn/cppnnConfigVersion.cmake lib/pkgconfig/cppnn.pc)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "the installed package lacks ${file}")
  endif()
endforeach()
# Nothing of the build tree or the sources may leak into the installed package's paths.
file(READ ${prefix}/lib/cmake/cppnn/cppnnTargets.cmake targets)
foreach(leak ${BUILD} ${SOURCE})
  string(FIND "${targets}" "${leak}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "cppnnTargets.cmake names ${leak}")
  endif()
endforeach()

execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE}/tests/package/consumer -B ${WORK}/consumer -G Ninja
                        -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc)
  message(FATAL_ERROR "the consumer does not configure:\n${out}\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(rc)
  message(FATAL_ERROR "the consumer does not build:\n${out}\n${err}")
endif()
execute_process(COMMAND ${WORK}/consumer/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc OR NOT out MATCHES "cppnn consumer: 14 0")
  message(FATAL_ERROR "the consumer ran wrong (${rc}):\n${out}\n${err}")
endif()
message(STATUS "find_package consumer: ${out}")

execute_process(COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/lib/pkgconfig
                        pkg-config --cflags --libs cppnn
                RESULT_VARIABLE rc OUTPUT_VARIABLE flags ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
if(rc)
  message(FATAL_ERROR "pkg-config does not know cppnn: ${err}")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
execute_process(COMMAND ${CXX} -std=c++17 ${SOURCE}/tests/package/consumer/main.cpp ${flags}
                        -o ${WORK}/consumer_pc RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc)
  message(FATAL_ERROR "the consumer does not build with pkg-config's flags (${flags}):\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${prefix}/lib ${WORK}/consumer_pc
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc OR NOT out MATCHES "cppnn consumer: 14 0")
  message(FATAL_ERROR "the pkg-config consumer ran wrong (${rc}):\n${out}\n${err}")
endif()
message(STATUS "pkg-config consumer: ${out}")
