# The toolchain of `make check-aarch64`: Debian's cross compiler (g++-aarch64-linux-gnu)
# compiles the core's layers for aarch64 Linux, proving that the sources build there (no x86
# intrinsic or flag outside src/backends/cpu's x86 levels, isa_target.h). Nothing is
# linked: the x86-64 host's protobuf, ONNX and oneDNN packages lend their headers (the same
# on every architecture; the cross compiler searches /usr/include after its own) and their
# CMake configs, because Debian 12's arm64 -dev packages of oneDNN and ONNX cannot be
# installed beside the host's (each ships a file that differs per architecture).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
execute_process(COMMAND gcc -print-multiarch OUTPUT_VARIABLE CPPNN_HOST_MULTIARCH
  OUTPUT_STRIP_TRAILING_WHITESPACE)
set(dnnl_DIR /usr/lib/${CPPNN_HOST_MULTIARCH}/cmake/dnnl CACHE PATH "the host's oneDNN config")
set(ONNX_DIR /usr/lib/${CPPNN_HOST_MULTIARCH}/cmake/ONNX CACHE PATH "the host's ONNX config")
set(Protobuf_INCLUDE_DIR /usr/include CACHE PATH "")
set(Protobuf_LIBRARY /usr/lib/${CPPNN_HOST_MULTIARCH}/libprotobuf.so CACHE FILEPATH "")
set(Protobuf_PROTOC_EXECUTABLE /usr/bin/protoc CACHE FILEPATH "")
set(OpenCL_LIBRARY /usr/lib/${CPPNN_HOST_MULTIARCH}/libOpenCL.so CACHE FILEPATH "oneDNN's")
