#pragma once
// The core's side of the backend plugin boundary (runtime/backend_plugin.h): a plugin's C
// function table seen as the C++ Backend and Plan of runtime/backend.h, so that Context
// uses a plugin's backend like the CPU's. A status from the plugin becomes cppnn::Error of
// the same kind and message again (std::bad_alloc for CPPNN_STATUS_OUT_OF_HOST_MEMORY).
#include <memory>
#include <string>

#include "runtime/backend.h"
#include "runtime/backend_plugin.h"

namespace cppnn::detail {

// Why this core cannot use `table` (its version, size or core ABI differ), naming `where`;
// empty when it can.
std::string plugin_table_problem(const CppnnBackendPluginV1& table, const std::string& where);

// The plugin's backend for `options`. Throws cppnn::Error with the plugin's reason when it
// makes none (e.g. no usable device). `table` must outlive the backend, its plans and its
// tensors: the plugin stays loaded.
std::unique_ptr<Backend> make_plugin_backend(const CppnnBackendPluginV1& table,
                                             const ContextOptions& options);

}  // namespace cppnn::detail
