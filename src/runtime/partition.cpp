#include "runtime/partition.h"

#include <sstream>

#include "graph/op_id.h"

namespace cppnn::detail {

size_t Partition::device_node_count() const {
  size_t n = 0;
  for (const NodeSupport& s : nodes) n += s.supported ? 1 : 0;
  return n;
}

std::string Partition::summary(const GraphIR& g) const {
  std::ostringstream s;
  s << device_node_count() << " of " << nodes.size() << " nodes on the device";
  // Host nodes grouped by op and reason, in the order first seen.
  std::vector<std::pair<std::string, size_t>> groups;
  for (size_t i = 0; i < nodes.size() && i < g.nodes.size(); ++i) {
    if (nodes[i].supported) continue;
    std::string key = op_name(g.nodes[i].op) + " (" + nodes[i].why_not + ")";
    bool found = false;
    for (auto& [k, count] : groups)
      if (k == key) ++count, found = true;
    if (!found) groups.emplace_back(key, 1);
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    s << (i ? ", " : "; on the host: ");
    const auto& [key, count] = groups[i];
    if (count > 1) {
      size_t paren = key.find(" (");
      s << key.substr(0, paren) << " x" << count << key.substr(paren);
    } else {
      s << key;
    }
  }
  return s.str();
}

Partition partition_graph(const GraphIR& g, const SupportsFn& supports,
                          const std::map<size_t, std::string>& forced_host) {
  size_t n_ops = g.operands.size();
  Partition p;
  p.nodes.resize(g.nodes.size());
  p.read_on_device.assign(n_ops, false);
  p.read_on_host.assign(n_ops, false);
  p.made_on_device.assign(n_ops, false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    NodeSupport s = supports(g, i);
    if (!s.supported && s.why_not.empty()) s.why_not = "not supported by the device";
    if (auto f = forced_host.find(i); f != forced_host.end()) s = NodeSupport{false, f->second};
    p.nodes[i] = s;
    p.any_host_node = p.any_host_node || !s.supported;
    for (OperandId id : g.nodes[i].inputs)
      if (id != kNoOperand) (s.supported ? p.read_on_device : p.read_on_host)[size_t(id)] = true;
    for (OperandId id : g.nodes[i].outputs) p.made_on_device[size_t(id)] = s.supported;
  }
  return p;
}

}  // namespace cppnn::detail
