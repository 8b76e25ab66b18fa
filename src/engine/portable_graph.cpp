#include "engine/portable_graph.h"

#include "backends/cpu/evaluator.h"
#include "compiler/passes.h"

namespace cppnn::detail {

std::shared_ptr<const GraphIR> portable_graph(const std::shared_ptr<const GraphIR>& graph,
                                              Precision precision, const std::string& what,
                                              const std::vector<OperandId>& runtime_constants,
                                              LoweredConstants* lowered_constants,
                                              bool keep_io_types) {
  if (precision == Precision::auto_)
    fail(ErrorKind::TypeError, what + ": precision auto is a context's choice (float32 or float16 here)");
  if (precision != Precision::float32 && precision != Precision::float16 &&
      precision != Precision::bfloat16)
    fail(ErrorKind::TypeError, what + ": unknown precision " + std::to_string(uint32_t(precision)));
  if (!keep_io_types && precision != Precision::float16)
    fail(ErrorKind::TypeError,
         what + ": keep_io_types false needs precision float16 (float32 has nothing to change; "
                "bfloat16 is not a WebNN data type that inputs and outputs can have)");
  // Constants fold with the CPU kernels, as the CPU backend folds them. No layout choice:
  // NHWC is what the CPU's oneDNN kernels and the GPU's float16 tensor cores want, NCHW what
  // cuDNN's float32 kernels want, so each backend's plan decides it for its device
  // (choose_channels_last handles the fused convs this leaves).
  PassOptions options = cpu_pass_options();
  options.channels_last = false;
  options.runtime_constants = runtime_constants;
  std::shared_ptr<const GraphIR> optimized = optimize(graph, options);
  if (precision != Precision::float32 && optimized->precision == Precision::float32) {
    auto lowered = std::make_shared<GraphIR>(*optimized);
    if (precision == Precision::float16)
      lower_to_float16(*lowered, lowered_constants, keep_io_types);
    else
      lower_to_bfloat16(*lowered, lowered_constants);
    optimized = lowered;
  }
  return optimized;
}

}  // namespace cppnn::detail
