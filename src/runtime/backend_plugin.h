/* The backend plugin boundary: the one C function table through which the core
 * (libcppnn.so) uses a backend that lives in a plugin (libcppnn_cuda.so). It is plain C:
 * opaque handles, fixed-width integers, status codes, and strings handed to a callback of
 * the caller's, so that no C++ object layout, vtable or exception crosses it.
 *
 * A plugin exports exactly one symbol:
 *
 *   const CppnnBackendPluginV1* cppnn_backend_plugin(uint32_t host_version);
 *
 * The core's loader (src/api/backend_loader.cpp) calls it with CPPNN_BACKEND_PLUGIN_VERSION
 * and wraps the table in an adapter implementing the C++ Backend and Plan interfaces
 * (runtime/backend.h), so nothing else in the core knows that a plugin is there. A plugin
 * written against runtime/backend.h gets its table from runtime/backend_plugin_export.h.
 *
 * The version rule:
 * - host_version is the table the host understands. A plugin returns a table of exactly
 *   that version, or NULL when it cannot serve it (the loader then says so and uses the
 *   CPU). The loader also refuses a table whose `version` differs from its own or whose
 *   `struct_size` is smaller than the struct it was compiled with.
 * - Bump CPPNN_BACKEND_PLUGIN_VERSION (and add a CppnnBackendPluginV<n>) when a member of
 *   the table changes its signature or meaning, is removed or moves, or when a status code
 *   changes meaning. A new function may be appended without a bump: the host calls it only
 *   when `struct_size` says the plugin's table has it.
 * - The opaque handles to the core's objects (the context options, a graph, named tensors)
 *   are C++ objects of libcppnn.so, the one core that the program and the plugin both link
 *   (one op table, one kernel registry per process). Their layout is that of the headers
 *   the plugin was compiled with, so a plugin must come from the same cppnn sources as the
 *   core that loads it: `core_abi` is CPPNN_CORE_ABI, a hash of the core's headers that
 *   the build computes (runtime/core_abi.h, generated), and the loader refuses a plugin
 *   whose hash is not its own. Nothing is bumped by hand for those.
 *
 * Every function but the destroy/release ones reports failure by its status: nonzero,
 * with the message given to `error` (the plugin catches every exception; none crosses).
 * The core rethrows it as cppnn::Error of the same kind and message.
 */
#ifndef CPPNN_RUNTIME_BACKEND_PLUGIN_H
#define CPPNN_RUNTIME_BACKEND_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CPPNN_BACKEND_PLUGIN_VERSION 1u

/* The name of the one symbol a plugin exports. */
#define CPPNN_BACKEND_PLUGIN_ENTRY "cppnn_backend_plugin"

/* Handles the plugin makes and the core passes back. */
typedef struct cppnn_backend cppnn_backend; /* one context's backend */
typedef struct cppnn_plan cppnn_plan;       /* one compiled graph */
typedef struct cppnn_memory cppnn_memory;   /* one device tensor's memory */

/* Handles to the core's own objects (see the version rule above). */
typedef struct cppnn_options cppnn_options; /* const cppnn::ContextOptions */
typedef struct cppnn_graph cppnn_graph;     /* const cppnn::detail::GraphIR */
typedef struct cppnn_tensors cppnn_tensors; /* cppnn::NamedTensors */

/* What a call returns: 0, or the kind of the error (cppnn::ErrorKind + 1). */
typedef int32_t cppnn_status;
#define CPPNN_STATUS_OK 0
#define CPPNN_STATUS_TYPE_ERROR 1          /* cppnn::ErrorKind::TypeError */
#define CPPNN_STATUS_DATA_ERROR 2          /* DataError */
#define CPPNN_STATUS_NOT_SUPPORTED_ERROR 3 /* NotSupportedError */
#define CPPNN_STATUS_OPERATION_ERROR 4     /* OperationError, and any other exception */
#define CPPNN_STATUS_INVALID_STATE_ERROR 5 /* InvalidStateError */
#define CPPNN_STATUS_OUT_OF_HOST_MEMORY 6  /* std::bad_alloc: rethrown as std::bad_alloc */

/* A string from the plugin: `write` gets its bytes (not NUL-terminated), and may be called
 * more than once, each call appending. The core's callbacks do not throw. */
typedef struct cppnn_string_out {
  void (*write)(void* user, const char* text, size_t size);
  void* user;
} cppnn_string_out;

/* A device tensor's memory as the plugin made it. */
typedef struct cppnn_memory_info {
  cppnn_memory* memory; /* released with release_memory */
  void* data;           /* its first byte (a device pointer when on_device) */
  int32_t on_device;    /* 1: device memory, not dereferenceable on the host */
} cppnn_memory_info;

typedef struct CppnnBackendPluginV1 {
  uint32_t version;     /* CPPNN_BACKEND_PLUGIN_VERSION the table implements */
  uint32_t struct_size; /* sizeof(CppnnBackendPluginV1) the plugin was compiled with */
  const char* core_abi; /* CPPNN_CORE_ABI of the headers the plugin was compiled with */

  /* ---- the backend (cppnn::detail::Backend) */

  /* A backend for one context. Failing (e.g. no usable device) is no error of the
   * program's: the loader reports the message and uses the CPU. */
  cppnn_status (*create)(const cppnn_options* options, cppnn_backend** out,
                         cppnn_string_out error);
  /* After every plan of the backend is destroyed; memory may outlive it. */
  void (*destroy)(cppnn_backend* backend);
  /* Its name ("cuda"), and what Context::backend_reason() appends (device, manners). */
  cppnn_status (*name)(const cppnn_backend* backend, cppnn_string_out out,
                       cppnn_string_out error);
  cppnn_status (*detail)(const cppnn_backend* backend, cppnn_string_out out,
                         cppnn_string_out error);
  /* A plan of `graph`. The core keeps the graph alive until plan_destroy. */
  cppnn_status (*compile)(cppnn_backend* backend, const cppnn_graph* graph, cppnn_plan** out,
                          cppnn_string_out error);
  /* Waits for all queued work. */
  cppnn_status (*synchronize)(cppnn_backend* backend, cppnn_string_out error);

  /* Device tensors (Backend::create_tensor, wrap_tensor, write_tensor, read_tensor). The
   * memory of wrap_memory is the caller's and stays alive while the handle does. */
  cppnn_status (*create_memory)(cppnn_backend* backend, size_t bytes, cppnn_memory_info* out,
                                cppnn_string_out error);
  cppnn_status (*wrap_memory)(cppnn_backend* backend, void* data, size_t bytes,
                              cppnn_memory_info* out, cppnn_string_out error);
  /* Frees (or, for wrapped memory, lets go of) the memory after the work queued on it. */
  void (*release_memory)(cppnn_memory* memory);
  cppnn_status (*write_memory)(cppnn_backend* backend, cppnn_memory* memory, const void* src,
                               size_t bytes, cppnn_string_out error);
  cppnn_status (*read_memory)(cppnn_backend* backend, const cppnn_memory* memory, void* dst,
                              size_t bytes, cppnn_string_out error);

  /* Memory other libraries made (DLPack imports; Backend::device_of and
   * synchronize_external): the ordinal of the device that holds `data`, and a wait on the
   * host for the work other libraries queued on that device. */
  cppnn_status (*device_of)(cppnn_backend* backend, const void* data, int32_t* ordinal,
                            cppnn_string_out error);
  cppnn_status (*synchronize_external)(cppnn_backend* backend, const void* data,
                                       cppnn_string_out error);

  /* ---- a plan (cppnn::detail::Plan) */

  /* Runs on host tensors; `outputs` is empty on entry and gets the graph's outputs. */
  cppnn_status (*plan_compute)(cppnn_plan* plan, const cppnn_tensors* inputs,
                               cppnn_tensors* outputs, cppnn_string_out error);
  /* Runs on device tensors: names[i] is bound to memory[i] (memory of this backend). */
  cppnn_status (*plan_dispatch)(cppnn_plan* plan, const cppnn_graph* graph, size_t input_count,
                                const char* const* input_names,
                                cppnn_memory* const* input_memory, size_t output_count,
                                const char* const* output_names,
                                cppnn_memory* const* output_memory, cppnn_string_out error);
  /* What runs where (Context::report); may write nothing. */
  cppnn_status (*plan_report)(const cppnn_plan* plan, cppnn_string_out out,
                              cppnn_string_out error);
  void (*plan_destroy)(cppnn_plan* plan);

  /* ---- partitioning (appended after the plan's functions) */

  /* Backend::supports_op: whether the backend's device runs node `node` of `graph` itself
   * (*supported 1) or its plan runs it on the host's CPU kernel (0, with the reason written
   * to `why`). */
  cppnn_status (*supports_node)(cppnn_backend* backend, const cppnn_graph* graph, size_t node,
                                int32_t* supported, cppnn_string_out why,
                                cppnn_string_out error);

  /* ---- memory (appended after partitioning) */

  /* Backend::peak_memory: the most device memory the backend's allocations held at once, in
   * bytes; 0 when it keeps no count. `reset` nonzero: the count starts again afterwards. */
  cppnn_status (*peak_memory)(cppnn_backend* backend, int32_t reset, uint64_t* bytes,
                              cppnn_string_out error);
} CppnnBackendPluginV1;

/* The plugin's one export, looked up by the loader under CPPNN_BACKEND_PLUGIN_ENTRY. */
typedef const CppnnBackendPluginV1* (*cppnn_backend_plugin_fn)(uint32_t host_version);

#ifdef __cplusplus
}
#endif

#endif /* CPPNN_RUNTIME_BACKEND_PLUGIN_H */
