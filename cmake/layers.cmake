# The layers of src/ (docs/layers.md): one table for the build (CMakeLists.txt) and for
# the include check (tests/layers/check_layers.cmake). Bottom to top:
#
#   core          src/core                 errors, types, tensors, hashing, files, bytes
#   graph         src/graph                the IR, the op table, the builder
#   onnx          src/onnx                 ONNX import and export (graph only)
#   passes        src/compiler             optimization passes (folding takes an evaluator)
#   runtime       src/runtime              the backend interface, memory plans, runtime cache
#   backend_cpu   src/backends/cpu         CPU kernels and plan; the constant evaluator
#   engine        src/engine               the engine file format and Engine
#   api           src/api                  Context and backend choice (plugin loading)
#   cuda_codegen  src/backends/cuda/codegen  CUDA source generation (no CUDA needed)
#   backend_cuda  src/backends/cuda        the CUDA plugin (its own CMakeLists)
#
# For each layer: DIRS, folders under src/ it owns (a nested folder named by another layer
# belongs to that one); HEADERS, the public headers under include/cppnn/ that belong to it
# (a layer may include those of the layers it reaches, like its src/ headers); EXTERNAL,
# prefixes of the external libraries' headers (#include <...>) that only this layer may
# include; DEPS, the layers directly below it that it may use. A layer may include and
# call what DEPS reach, transitively, and nothing else: not the layers above it, and not
# those beside it.
set(CPPNN_LAYERS core graph onnx passes runtime backend_cpu engine api cuda_codegen
  backend_cuda)

set(CPPNN_LAYER_core_DIRS core)
set(CPPNN_LAYER_core_HEADERS cppnn/error.h cppnn/types.h cppnn/tensor.h)
set(CPPNN_LAYER_core_DEPS)

set(CPPNN_LAYER_graph_DIRS graph)
set(CPPNN_LAYER_graph_HEADERS cppnn/graph.h cppnn/ops.def cppnn/op_support.h cppnn/graph_info.h)
set(CPPNN_LAYER_graph_DEPS core)

set(CPPNN_LAYER_onnx_DIRS onnx)
set(CPPNN_LAYER_onnx_HEADERS cppnn/onnx.h)
set(CPPNN_LAYER_onnx_EXTERNAL onnx/ google/protobuf)
set(CPPNN_LAYER_onnx_DEPS graph)

set(CPPNN_LAYER_passes_DIRS compiler)
set(CPPNN_LAYER_passes_DEPS graph)

# cppnn/context.h holds the types every backend sees (ContextOptions, NamedTensors); the
# Context class it declares is implemented in api, which the link check enforces.
set(CPPNN_LAYER_runtime_DIRS runtime)
set(CPPNN_LAYER_runtime_HEADERS cppnn/runtime_cache.h cppnn/context.h)
set(CPPNN_LAYER_runtime_DEPS graph)

set(CPPNN_LAYER_backend_cpu_DIRS backends/cpu)
set(CPPNN_LAYER_backend_cpu_EXTERNAL dnnl oneapi/dnnl)
set(CPPNN_LAYER_backend_cpu_DEPS runtime passes)

set(CPPNN_LAYER_engine_DIRS engine)
set(CPPNN_LAYER_engine_HEADERS cppnn/engine.h)
set(CPPNN_LAYER_engine_DEPS backend_cpu)

set(CPPNN_LAYER_api_DIRS api)
set(CPPNN_LAYER_api_HEADERS cppnn/cppnn.h)
set(CPPNN_LAYER_api_DEPS engine onnx)

set(CPPNN_LAYER_cuda_codegen_DIRS backends/cuda/codegen)
set(CPPNN_LAYER_cuda_codegen_DEPS graph)

set(CPPNN_LAYER_backend_cuda_DIRS backends/cuda)
set(CPPNN_LAYER_backend_cuda_EXTERNAL cuda cudnn cublas nvrtc)
set(CPPNN_LAYER_backend_cuda_DEPS backend_cpu cuda_codegen)

# The layers `layer` may use: its DEPS and theirs, transitively, in `out`.
function(cppnn_layer_reach layer out)
  set(seen)
  set(todo ${CPPNN_LAYER_${layer}_DEPS})
  while(todo)
    list(POP_FRONT todo next)
    if(NOT next IN_LIST seen)
      list(APPEND seen ${next})
      list(APPEND todo ${CPPNN_LAYER_${next}_DEPS})
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# The layer that owns `path` (relative to src/): the one with the longest matching folder;
# empty when none does.
function(cppnn_layer_of path out)
  set(best "")
  set(best_len 0)
  foreach(layer IN LISTS CPPNN_LAYERS)
    foreach(dir IN LISTS CPPNN_LAYER_${layer}_DIRS)
      string(LENGTH "${dir}/" len)
      string(SUBSTRING "${path}" 0 ${len} head)
      if(head STREQUAL "${dir}/" AND len GREATER best_len)
        set(best ${layer})
        set(best_len ${len})
      endif()
    endforeach()
  endforeach()
  set(${out} ${best} PARENT_SCOPE)
endfunction()
