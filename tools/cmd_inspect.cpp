// cppnn inspect: what a model or an engine file holds: inputs and outputs, op counts,
// fusions, precision, format version, hash, and what the runtime cache has compiled of it;
// --json for programs, --dot for a Graphviz picture (rendered to SVG when `dot` is there).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "cli.h"
#include "cppnn/graph_info.h"
#include "cppnn/runtime_cache.h"

extern char** environ;

namespace cppnn::cli {

namespace {

using nlohmann::json;

struct InspectArgs {
  ModelArgs model;
  std::string precision = "float32";
  bool json = false;
  std::string dot;
};

json shape_json(const Dims& dims) {
  json a = json::array();
  for (int64_t d : dims) a.push_back(d);
  return a;
}

// A DOT string literal: the model's names are untrusted text.
std::string dot_quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    if (c == '\n') {
      q += "\\n";
      continue;
    }
    q += c;
  }
  return q + "\"";
}

std::string dot_graph(const Graph& graph) {
  std::vector<NodeSummary> nodes = graph_nodes(graph);
  std::vector<OperandSummary> operands = graph_operands(graph);
  std::string s = "digraph cppnn {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  auto desc_text = [&](int32_t id) {
    const OperandDescriptor& d = operands[size_t(id)].desc;
    return std::string(to_string(d.data_type)) + to_string(d.shape);
  };
  // Where each operand comes from: a graph input's node or the node that writes it.
  std::map<int32_t, std::string> producer;
  for (size_t i = 0; i < operands.size(); ++i)
    if (operands[i].kind == OperandKind::input) {
      std::string id = "in" + std::to_string(i);
      producer[int32_t(i)] = id;
      s += "  " + id + " [shape=ellipse, style=filled, fillcolor=\"#d5e8d4\", label=" +
           dot_quote(operands[i].name + "\n" + desc_text(int32_t(i))) + "];\n";
    }
  for (size_t n = 0; n < nodes.size(); ++n) {
    const NodeSummary& node = nodes[n];
    std::string id = "n" + std::to_string(n);
    std::string label = node.op;
    for (const std::string& f : node.fused) label += " + " + f;
    if (!node.label.empty()) label += "\n" + node.label;
    // Constants (weights) are shown in the node, not as nodes of their own.
    for (int32_t in : node.inputs)
      if (in >= 0 && operands[size_t(in)].kind == OperandKind::constant)
        label += "\nconst " + desc_text(in);
    s += "  " + id + " [shape=box, style=\"rounded,filled\", fillcolor=" +
         std::string(node.fused.empty() ? "\"#dae8fc\"" : "\"#ffe6cc\"") +
         ", label=" + dot_quote(label) + "];\n";
    for (int32_t in : node.inputs)
      if (in >= 0 && producer.count(in))
        s += "  " + producer[in] + " -> " + id + " [label=" + dot_quote(desc_text(in)) + "];\n";
    for (int32_t out : node.outputs) producer[out] = id;
  }
  size_t k = 0;
  for (size_t i = 0; i < operands.size(); ++i)
    if (!operands[i].output_name.empty()) {
      std::string id = "out" + std::to_string(k++);
      s += "  " + id + " [shape=ellipse, style=filled, fillcolor=\"#f8cecc\", label=" +
           dot_quote(operands[i].output_name + "\n" + desc_text(int32_t(i))) + "];\n";
      if (producer.count(int32_t(i))) s += "  " + producer[int32_t(i)] + " -> " + id + ";\n";
    }
  return s + "}\n";
}

// The program `name` found on PATH, or "".
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return "";
  std::string p = path;
  for (size_t start = 0; start <= p.size();) {
    size_t colon = p.find(':', start);
    std::string dir =
        p.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(candidate))
        return candidate;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

// FILE.dot -> FILE.svg; any other name gets ".svg" added.
std::string svg_path(const std::string& dot) {
  std::filesystem::path p(dot);
  if (p.extension() == ".dot" || p.extension() == ".gv")
    return p.replace_extension(".svg").string();
  return dot + ".svg";
}

// Writes the DOT file, then runs `dot -Tsvg FILE -o FILE.svg` (no shell: the names are
// passed as arguments) when dot is on PATH. Messages go to stderr, so --json stays clean.
void write_dot(const std::string& path, const Graph& graph) {
  std::string text = dot_graph(graph);
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(text.data(), std::streamsize(text.size())) || !f.flush())
      fail(ErrorKind::DataError, "--dot '" + path + "': cannot write the file");
  }
  std::fprintf(stderr, "cppnn: wrote %s\n", path.c_str());
  std::string dot = on_path("dot");
  if (dot.empty()) {
    std::fprintf(stderr, "cppnn: 'dot' (Graphviz) is not on PATH: %s is not rendered to SVG\n",
                 path.c_str());
    return;
  }
  std::string svg = svg_path(path);
  std::vector<std::string> args = {dot, "-Tsvg", path, "-o", svg};
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int status = 0;
  if (::posix_spawn(&pid, dot.c_str(), nullptr, nullptr, argv.data(), environ) != 0 ||
      ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail(ErrorKind::OperationError, "--dot: '" + dot + " -Tsvg " + path + "' failed");
  std::fprintf(stderr, "cppnn: rendered %s\n", svg.c_str());
}

int inspect(const InspectArgs& a) {
  json j;
  j["file"] = a.model.model;
  const bool engine_file = Engine::is_engine_file(a.model.model);
  LoadedModel m;
  Graph imported;
  std::map<std::string, std::vector<std::string>> declared;  // input -> dims as written
  if (engine_file) {
    m = load_model(a.model, a.precision);
    j["format"] = "engine";
    j["format_version"] = m.engine.format_version();
    j["written_by"] = {{"cppnn_version", m.engine.cppnn_version()},
                       {"producer", m.engine.producer()}};
  } else {
    OnnxModelDecl decl = read_onnx_decl(a.model.model);
    for (const OnnxInputDecl& in : decl.inputs) declared[in.name] = in.dims;
    m = load_model(a.model);  // float32: the imported graph
    imported = m.graph;
    EngineBuildOptions options;
    options.precision = precision_of(a.precision);
    m.engine = Engine::build(imported, options);  // what `cppnn build` would write
    m.graph = m.engine.graph();
    j["format"] = "onnx";
    j["format_version"] = {{"ir_version", decl.ir_version}, {"opsets", decl.opsets}};
    j["written_by"] = {{"producer", decl.producer}};
    j["symbolic_dims"] = decl.symbolic_dims();
  }
  const Graph& graph = m.graph;
  j["hash"] = m.engine.hash();
  j["engine_bytes"] = m.engine.byte_size();
  j["precision"] = std::string(to_string(graph_precision(graph)));
  for (const auto& [name, d] : graph.inputs()) {
    json in = {{"name", name},
               {"type", std::string(to_string(d.data_type))},
               {"shape", shape_json(d.shape)}};
    if (declared.count(name)) in["declared_shape"] = declared[name];
    j["inputs"].push_back(in);
  }
  for (const auto& [name, d] : graph.outputs())
    j["outputs"].push_back({{"name", name},
                            {"type", std::string(to_string(d.data_type))},
                            {"shape", shape_json(d.shape)}});
  std::vector<NodeSummary> nodes = graph_nodes(graph);
  std::map<std::string, size_t> ops, fusions;
  for (const NodeSummary& n : nodes) {
    ++ops[n.op];
    for (const std::string& f : n.fused) ++fusions[n.op + "+" + f];
  }
  j["nodes"] = {{"optimized", nodes.size()}};
  if (imported.valid()) j["nodes"]["imported"] = imported.node_count();
  j["ops"] = ops;
  j["fusions"] = fusions;
  j["weight_bytes"] = constant_bytes(graph);
  // A dynamic graph (an engine built with shapes): its symbols' ranges and which input axes
  // they are; the shapes above are the graph at the opt values.
  if (graph.dynamic()) {
    for (const auto& [name, r] : graph.symbols())
      j["dynamic"]["symbols"][name] = {{"min", r.min}, {"opt", r.opt}, {"max", r.max}};
    j["dynamic"]["input_symbols"] = graph.input_symbols();
  }
  // Engines are portable: the file records no device. What was compiled for which device is
  // in the runtime cache, keyed by the hash.
  json targets = json::array();
  std::set<std::string> seen;
  for (const RuntimeCacheFile& f : list_runtime_cache(default_runtime_cache_folder()))
    if (!f.temporary && f.engine_hash == m.engine.hash() &&
        seen.insert(f.device_arch + "|" + f.driver_version).second)
      targets.push_back({{"device_arch", f.device_arch},
                         {"driver_version", f.driver_version},
                         {"libraries", f.library_versions},
                         {"cppnn_build", f.cppnn_build}});
  j["target_architectures"] = {{"recorded_in_file", json::array()}, {"runtime_cache", targets}};

  if (!a.dot.empty()) write_dot(a.dot, graph);
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }

  std::printf("file      %s\n", a.model.model.c_str());
  if (engine_file)
    std::printf("format    cppnn engine, version %u (written by cppnn %s, %s)\n",
                m.engine.format_version(), m.engine.cppnn_version().c_str(),
                m.engine.producer().c_str());
  else {
    std::string opsets;
    for (const auto& [domain, v] : j["format_version"]["opsets"].items())
      opsets += (opsets.empty() ? "" : ", ") + (domain.empty() ? std::string("ai.onnx") : domain) +
                " " + std::to_string(v.get<int64_t>());
    std::printf("format    ONNX, IR version %lld, opsets %s%s%s\n",
                static_cast<long long>(j["format_version"]["ir_version"].get<int64_t>()),
                opsets.c_str(),
                j["written_by"]["producer"].get<std::string>().empty() ? "" : ", producer ",
                j["written_by"]["producer"].get<std::string>().c_str());
  }
  std::printf("hash      %s%s\n", m.engine.hash().c_str(),
              engine_file ? "" : " (of the engine `cppnn build` makes of it with these options)");
  std::printf("precision %s\n", j["precision"].get<std::string>().c_str());
  for (const auto& [name, d] : graph.inputs()) {
    std::string decl_text;
    if (declared.count(name)) {
      for (const std::string& dim : declared[name])
        decl_text += (decl_text.empty() ? "" : ", ") + dim;
      decl_text = "  (declared [" + decl_text + "])";
    }
    std::printf("input     %s %s %s%s\n", name.c_str(), std::string(to_string(d.data_type)).c_str(),
                to_string(d.shape).c_str(), decl_text.c_str());
  }
  for (const auto& [name, d] : graph.outputs())
    std::printf("output    %s %s %s\n", name.c_str(), std::string(to_string(d.data_type)).c_str(),
                to_string(d.shape).c_str());
  if (graph.dynamic()) {
    std::printf("dynamic  ");
    for (const auto& [name, r] : graph.symbols())
      std::printf(" %s in [%lld, %lld] (opt %lld)", name.c_str(), static_cast<long long>(r.min),
                  static_cast<long long>(r.max), static_cast<long long>(r.opt));
    std::printf("; the shapes shown are at opt\n");
  }
  if (imported.valid())
    std::printf("nodes     %zu imported, %zu after optimization\n", imported.node_count(),
                nodes.size());
  else
    std::printf("nodes     %zu\n", nodes.size());
  std::printf("ops      ");
  for (const auto& [op, count] : ops) std::printf(" %s x%zu", op.c_str(), count);
  std::printf("\nfusions  ");
  if (fusions.empty()) std::printf(" none");
  for (const auto& [what, count] : fusions) std::printf(" %s x%zu", what.c_str(), count);
  std::printf("\nweights   %s\n", human_bytes(constant_bytes(graph)).c_str());
  std::printf(
      "targets   none recorded in the file (engines are portable: each device compiles its own "
      "plan)\n");
  for (const auto& t : targets)
    std::printf("          runtime cache: compiled for %s (driver %s, %s)\n",
                t["device_arch"].get<std::string>().c_str(),
                t["driver_version"].get<std::string>().c_str(),
                t["libraries"].get<std::string>().c_str());
  return kExitOk;
}

}  // namespace

Command add_inspect(CLI::App& app) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect",
                                     "show what a model or an engine holds: inputs, outputs, ops, "
                                     "fusions, precision, version, hash");
  add_model_options(cmd, a->model, "ONNX model or engine file");
  cmd->add_option("--precision", a->precision,
                  "for an ONNX model: the precision of the engine it is optimized into for the "
                  "op counts, fusions and hash")
      ->check(CLI::IsMember({"float32", "float16", "bfloat16"}))
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "print JSON instead of text");
  cmd->add_option("--dot", a->dot,
                  "write the optimized graph as Graphviz DOT to FILE, and render FILE.svg (FILE "
                  "with .dot replaced) when `dot` is on PATH");
  return {cmd, [a] { return inspect(*a); }};
}

}  // namespace cppnn::cli
