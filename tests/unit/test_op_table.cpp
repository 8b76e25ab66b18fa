// The one list of ops (include/cppnn/ops.def) against every layer keyed by it: each test
// fails naming the op a layer lacks, or the op family whose file a layer lacks. docs/ops.md
// is generated from the same list and checked here; CPPNN_WRITE_OPS_DOC=1 rewrites it (from
// the build folder: `CPPNN_WRITE_OPS_DOC=1 ./cppnn_tests --gtest_filter=OpTable.DocIsCurrent`).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "backends/cpu/kernel.h"
#include "cppnn/error.h"
#include "graph/op_id.h"
#include "graph/op_table.h"
#include "onnx/op_coverage.h"

namespace cppnn {
namespace {

using namespace detail;

bool user_op(const OpInfo& op) { return op.kind != OpKind::internal; }

TEST(OpTable, IdsNamesAndSchemasAgree) {
  std::set<std::string> names;
  for (const OpInfo& op : all_ops()) {
    EXPECT_EQ(&op_info(op.id), &op) << op.name;
    EXPECT_EQ(find_op(op.name), op.id) << op.name;
    EXPECT_TRUE(names.insert(op.name).second) << "declared twice: " << op.name;
    const OpSchema* schema = OpTable::instance().find(op.id);
    if (user_op(op)) {
      ASSERT_NE(schema, nullptr) << "no schema (graph/ops) for " << op.name;
      EXPECT_EQ(schema->id, op.id) << op.name;
    } else {
      EXPECT_EQ(schema, nullptr) << op.name << " is internal: users must not build it";
    }
    if (op.sig != OpSig::X) {
      EXPECT_TRUE(op.elementwise()) << op.name << ": U and B ops are element-wise";
    }
    if (op.has(OpTrait::EpilogueActivation)) {
      EXPECT_EQ(op.kind, OpKind::activation) << op.name;
    }
  }
  EXPECT_FALSE(find_op(""));
  EXPECT_FALSE(find_op("generatedkernel"));
  EXPECT_FALSE(find_op("Conv2d"));
  EXPECT_EQ(op_name(OpId::none), "");
}

TEST(OpTable, EveryOpHasACpuKernel) {
  const CpuKernelRegistry& cpu = CpuKernelRegistry::instance();
  for (const OpInfo& op : all_ops()) {
    if (!user_op(op)) continue;
    EXPECT_NE(cpu.find(op.id), nullptr) << "no CPU kernel for " << op.name;
  }
  EXPECT_EQ(cpu.find(OpId::none), nullptr);
  // Of the internal ops, the CPU runs the fused attention (matmul_attention.cpp); the CUDA
  // plan's generated kernels are its own.
  EXPECT_NE(cpu.find(OpId::attention), nullptr);
  EXPECT_EQ(cpu.find(OpId::generatedKernel), nullptr);
}

TEST(OpTable, EveryOpHasAnOnnxExporter) {
  for (const OpInfo& op : all_ops()) {
    if (!user_op(op)) continue;
    EXPECT_TRUE(onnx_exports(op.id)) << "no ONNX exporter for " << op.name;
  }
}

TEST(OpTable, EveryOnePlusOneOnnxNameImports) {
  for (const OpInfo& op : all_ops()) {
    if (op.onnx.empty()) continue;
    EXPECT_TRUE(onnx_imports(op.onnx)) << op.name << " maps to ONNX " << op.onnx
                                       << ", which the importer does not take";
  }
}

// Whether `op` accepts `type` for its first input: an error that names the first input's
// data type is a refusal; any other outcome (success, or an error about shapes, options or
// other operands) means the type itself passed. All inputs get the same type and shape.
bool accepts(const OpSchema& schema, DataType type) {
  OperandDescriptor desc{type, {1, 2, 3, 4}};
  InputDescs in(std::max<size_t>(schema.min_inputs, 1), &desc);
  Attrs attrs;
  try {
    schema.infer(in, attrs);
  } catch (const Error& e) {
    std::string first = schema.input_names.empty() ? "input" : schema.input_names[0];
    return std::string(e.what()).find("operand '" + first + "' has data type") ==
           std::string::npos;
  } catch (const std::exception&) {
    // A missing option read by the infer function: not a type refusal.
  }
  return true;
}

TEST(OpTable, DeclaredTypesAreTheTypesInferenceAccepts) {
  // The probe tells a refusal of the first input's type from other errors.
  const OpTable& table = OpTable::instance();
  EXPECT_TRUE(accepts(*table.find(OpId::softmax), DataType::float16));
  EXPECT_FALSE(accepts(*table.find(OpId::softmax), DataType::int32));
  EXPECT_TRUE(accepts(*table.find(OpId::where), DataType::uint8));
  EXPECT_FALSE(accepts(*table.find(OpId::where), DataType::float32));
  EXPECT_TRUE(accepts(*table.find(OpId::gather), DataType::float32));  // refuses the indices
  EXPECT_FALSE(accepts(*table.find(OpId::isNaN), DataType::int8));
  for (const OpInfo& op : all_ops()) {
    if (!user_op(op)) continue;
    const OpSchema& schema = *OpTable::instance().find(op.id);
    std::set<DataType> declared;
    for (DataType t : op_types(op.types)) declared.insert(t);
    for (DataType t : kAllDataTypes) {
      EXPECT_EQ(accepts(schema, t), declared.count(t) != 0)
          << op.name << " with a " << to_string(t) << " input: ops.def "
          << (declared.count(t) ? "allows" : "does not allow") << " it, inference "
          << (accepts(schema, t) ? "does" : "does not");
    }
  }
}

const char* kind_name(OpKind k) {
  switch (k) {
    case OpKind::none: return "none";
    case OpKind::unary: return "unary";
    case OpKind::binary: return "binary";
    case OpKind::comparison: return "comparison";
    case OpKind::logical: return "logical";
    case OpKind::activation: return "activation";
    case OpKind::select: return "select";
    case OpKind::cast: return "cast";
    case OpKind::reduction: return "reduction";
    case OpKind::scan: return "scan";
    case OpKind::softmax: return "softmax";
    case OpKind::movement: return "movement";
    case OpKind::gather: return "gather";
    case OpKind::conv: return "conv";
    case OpKind::matmul: return "matmul";
    case OpKind::pool: return "pool";
    case OpKind::norm: return "norm";
    case OpKind::recurrent: return "recurrent";
    case OpKind::quantization: return "quantization";
    case OpKind::internal: return "internal";
  }
  return "?";
}

// The family of an op kind: what the files of its ops are named after, the same in every
// layer (docs/layers.md, "Op families"). nullptr for the kinds users never build.
const char* family_of(OpKind k) {
  switch (k) {
    case OpKind::unary:
    case OpKind::binary:
    case OpKind::comparison:
    case OpKind::logical:
    case OpKind::activation:
    case OpKind::select:
    case OpKind::cast: return "elementwise";
    case OpKind::reduction:
    case OpKind::scan:
    case OpKind::softmax: return "reduction";
    case OpKind::movement: return "movement";
    case OpKind::gather: return "gather";
    case OpKind::conv: return "conv";
    case OpKind::matmul: return "matmul";
    case OpKind::pool: return "pooling";
    case OpKind::norm: return "normalization";
    case OpKind::recurrent: return "recurrent";
    case OpKind::quantization: return "quantization";
    case OpKind::none:
    case OpKind::internal: return nullptr;
  }
  return nullptr;
}

std::string types_text(OpTypes t) {
  if (t == OpTypes::Any) return "any";
  std::string s;
  for (DataType d : op_types(t)) s += (s.empty() ? "" : ", ") + std::string(to_string(d));
  return s;
}

std::string traits_text(const OpInfo& op) {
  std::string s;
  auto add = [&](OpTrait t, const char* name) {
    if (op.has(t)) s += (s.empty() ? "" : ", ") + std::string(name);
  };
  add(OpTrait::LayoutAgnostic, "layout-agnostic");
  add(OpTrait::EpilogueActivation, "epilogue activation");
  add(OpTrait::KeepFloat32, "float32 under float16");
  add(OpTrait::ExactOnHalf, "exact on half");
  return s;
}

// docs/ops.md, from ops.def and the layers' tables.
std::string ops_doc() {
  std::ostringstream s;
  s << "# Ops\n\n"
       "Generated from `include/cppnn/ops.def` by `tests/unit/test_op_table.cpp`"
       " (`OpTable.DocIsCurrent` fails when this file is stale; run\n"
       "`CPPNN_WRITE_OPS_DOC=1 build/cppnn_tests --gtest_filter=OpTable.DocIsCurrent` to"
       " rewrite it). Do not edit by hand.\n\n"
       "- **family**: the op's files, named alike in every layer: `src/graph/ops/<family>.cpp`,"
       " `src/backends/cpu/<family>.cpp`,\n  `src/backends/cuda/<family>_ops.cpp`,"
       " `src/onnx/convert_<family>.cpp` and `export_<family>.cpp`, `python/src/ops_<family>.cpp`"
       "\n  (docs/layers.md).\n"
       "- **types**: the data types of the first input.\n"
       "- **CPU**: a CPU kernel (`OpTable.EveryOpHasACpuKernel` checks it).\n"
       "- **CUDA**: `kernel` = fused into generated element-wise kernels (NVRTC); `step` = a"
       " device step of its own (cuDNN, cuBLASLt or our kernels). The GPU suite\n"
       "  (`GpuAllOps.*`) runs every op on the device and fails on a CPU fallback.\n"
       "- **ONNX import**: the ONNX op that maps to it one to one (`-` where the importer"
       " builds it from other ONNX ops or options); **export**: an exporter exists.\n"
       "- **Python**: the `MLGraphBuilder` method (`tests/python/test_ops_doc.py` checks each"
       " one exists).\n\n"
       "| op | kind | family | types | traits | CPU | CUDA | ONNX import | ONNX export | Python |\n"
       "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  const CpuKernelRegistry& cpu = CpuKernelRegistry::instance();
  for (const OpInfo& op : all_ops()) {
    if (!user_op(op)) continue;
    s << "| " << op.name << " | " << kind_name(op.kind) << " | " << family_of(op.kind) << " | "
      << types_text(op.types) << " | "
      << traits_text(op) << " | " << (cpu.find(op.id) ? "yes" : "no") << " | "
      << (op.elementwise() ? "kernel" : "step") << " | "
      << (op.onnx.empty() ? "-" : "`" + op.onnx + "`") << " | "
      << (onnx_exports(op.id) ? "yes" : "no") << " | `" << op.method << "` |\n";
  }
  return s.str();
}

TEST(OpTable, DocIsCurrent) {
  std::string path = std::string(CPPNN_SOURCE_DIR) + "/docs/ops.md";
  std::string want = ops_doc();
  if (const char* w = std::getenv("CPPNN_WRITE_OPS_DOC"); w && std::string(w) == "1") {
    std::ofstream(path, std::ios::binary) << want;
  }
  std::ifstream f(path, std::ios::binary);
  std::stringstream have;
  have << f.rdbuf();
  if (have.str() == want) return;
  // Name the first line that differs rather than printing both files.
  std::istringstream h(have.str()), w(want);
  std::string hl, wl;
  for (int line = 1;; ++line) {
    bool more_h = bool(std::getline(h, hl)), more_w = bool(std::getline(w, wl));
    if (more_h && more_w && hl == wl) continue;
    ADD_FAILURE() << path << " is stale (rerun with CPPNN_WRITE_OPS_DOC=1); line " << line
                  << "\n  file: " << (more_h ? hl : "(end)")
                  << "\n  want: " << (more_w ? wl : "(end)");
    break;
  }
}

// Every family has its file in every layer, under the family's name: a cheap guard that the
// names stay alike (docs/layers.md). Files named after no family in the folders that hold
// only per-family files fail too, so that ops_nn.cpp or shape.cpp cannot come back.
TEST(OpTable, EachFamilyHasItsFileInEveryLayer) {
  namespace fs = std::filesystem;
  const fs::path root(CPPNN_SOURCE_DIR);
  std::set<std::string> families;
  for (const OpInfo& op : all_ops()) {
    if (!user_op(op)) continue;
    const char* family = family_of(op.kind);
    ASSERT_NE(family, nullptr) << op.name << ": its kind has no family (family_of)";
    families.insert(family);
  }
  EXPECT_EQ(families.size(), 10u);
  for (const std::string& f : families) {
    std::vector<std::string> files = {
        "src/graph/ops/" + f + ".cpp",
        "src/backends/cpu/" + f + ".cpp",
        // Element-wise ops run on CUDA as generated kernels: their per-op code is the code
        // generator's, not an entry of the device-op table (device_ops.h).
        f == "elementwise" ? "src/backends/cuda/codegen/cuda_codegen_ops.cpp"
                           : "src/backends/cuda/" + f + "_ops.cpp",
        "src/onnx/convert_" + f + ".cpp",
        "src/onnx/export_" + f + ".cpp",
        "python/src/ops_" + f + ".cpp",
    };
    for (const std::string& file : files)
      EXPECT_TRUE(fs::is_regular_file(root / file)) << "family " << f << ": no " << file;
  }
  // Folder, file-name prefix and suffix, and the files there that are no family's.
  struct Folder {
    const char* dir;
    std::string prefix, suffix;
    std::set<std::string> others;
  };
  const Folder folders[] = {
      {"src/graph/ops", "", ".cpp", {}},
      {"src/backends/cuda", "", "_ops.cpp", {"device_ops.cpp"}},
      {"src/onnx", "convert_", ".cpp", {"convert_onnx_only.cpp", "convert_window.cpp", "convert_control_flow.cpp"}},
      {"src/onnx", "export_", ".cpp", {}},
      {"python/src", "ops_", ".cpp", {}},
  };
  for (const Folder& folder : folders) {
    for (const fs::directory_entry& e : fs::directory_iterator(root / folder.dir)) {
      std::string name = e.path().filename().string();
      if (name.size() < folder.prefix.size() + folder.suffix.size() ||
          name.compare(0, folder.prefix.size(), folder.prefix) != 0 ||
          name.compare(name.size() - folder.suffix.size(), folder.suffix.size(),
                       folder.suffix) != 0 ||
          folder.others.count(name))
        continue;
      std::string family = name.substr(folder.prefix.size(),
                                       name.size() - folder.prefix.size() - folder.suffix.size());
      EXPECT_TRUE(families.count(family))
          << folder.dir << "/" << name << " is named after no op family ("
          << "elementwise, reduction, movement, gather, conv, matmul, pooling, normalization, "
          << "recurrent, quantization)";
    }
  }
}

}  // namespace
}  // namespace cppnn
