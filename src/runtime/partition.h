#pragma once
// Partitioning a graph between a backend's device and the host: the one place that turns
// per-node answers ("can the device run this node?", Backend::supports_op) into where each
// node runs and which operands must cross between device and host memory. A backend whose
// device lacks a node's kernel runs that node on the host with the CPU backend's kernel (the
// CPU fallback); the CUDA plan builds its steps and copies from this partition.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/ir.h"

namespace cppnn::detail {

// A backend's answer for one node.
struct NodeSupport {
  bool supported = true;
  std::string why_not;  // when !supported: why not (shown in reports)
};

struct Partition {
  std::vector<NodeSupport> nodes;                  // per node: on the device when supported
  std::vector<bool> read_on_device, read_on_host;  // per operand: read by a node of that side
  std::vector<bool> made_on_device;                // per operand: made by a device node
  bool any_host_node = false;

  size_t device_node_count() const;
  // "12 of 14 nodes on the device; on the host: gelu x2 (no kernel for this op)"; one line.
  std::string summary(const GraphIR& g) const;
};

// The question asked of each node (by index into g.nodes).
using SupportsFn = std::function<NodeSupport(const GraphIR& g, size_t node)>;

// Asks `supports` about every node; a node in `forced_host` runs on the host whatever the
// answer (with the reason given there: e.g. a library turned it down when its step was made).
Partition partition_graph(const GraphIR& g, const SupportsFn& supports,
                          const std::map<size_t, std::string>& forced_host = {});

}  // namespace cppnn::detail
