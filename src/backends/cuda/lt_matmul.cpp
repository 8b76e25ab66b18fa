#include "backends/cuda/lt_matmul.h"

#include "backends/cuda/candidate_choice.h"
#include "backends/cuda/device_ops.h"
#include "backends/cuda/matmul_geometry.h"
#include "backends/cuda/kernels/conv_epilogue.h"
#include "backends/cuda/own_gemm.h"
#include "backends/cuda/kernels/movement_kernels.h"
#include "core/dims.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>

#include "core/dispatch.h"
#include "graph/op_table.h"

namespace cppnn::detail::cuda {

namespace {

// How gemm's c enters: not at all, as cuBLASLt's C matrix, as the epilogue's bias row, or
// (a computed c of another shape) broadcast into the output first, which cuBLASLt then
// reads as C in place.
enum class CForm { none, matrix, bias_row, into_output };

struct CPlan {
  CForm form = CForm::none;
  bool expand = false;      // a constant column or matrix-shaped broadcast, expanded once
  bool prescale = false;    // a constant row / scalar: beta * c computed once
  int64_t rows = 1, cols = 1;  // c's shape, padded to two dimensions
};

CPlan plan_gemm_c(const GraphIR& g, const Node& node) {
  CPlan p;
  if (node.inputs.size() < 3 || node.inputs[2] == kNoOperand) return p;
  double beta = node.attrs.f("beta");
  // The CPU kernel drops c when beta is 0; so does the GPU, for identical results.
  if (beta == 0) return p;
  const OperandInfo& c = g.operands[size_t(node.inputs[2])];
  const Dims& out = g.desc(node.outputs[0]).shape;
  Dims cs = c.desc.shape;
  while (cs.size() < 2) cs.insert(cs.begin(), 1);
  int64_t rows = cs[0], cols = cs[1];
  p.rows = rows, p.cols = cols;
  bool constant = c.role == OperandRole::constant;
  if (rows == 1 && cols == out[1] && beta == 1) {
    // A bias row: the epilogue's vector, also when the output is one row (where it is the
    // whole of C too) - the form our own kernels take as well (a classifier's gemm).
    p.form = CForm::bias_row;
  } else if (rows == out[0] && cols == out[1]) {
    p.form = CForm::matrix;
  } else if (rows == 1) {
    // A row (or a scalar, repeated along it) is the bias epilogue's vector.
    p.form = CForm::bias_row;
    p.prescale = constant && (beta != 1 || cols != out[1]);
    // The epilogue adds the bias as it is: a computed scalar or a computed row that beta
    // scales goes through C instead.
    if (!constant && (beta != 1 || cols != out[1])) p.form = CForm::into_output;
  } else if (constant) {
    p.form = CForm::matrix;
    p.expand = true;
  } else {
    p.form = CForm::into_output;  // a computed column
  }
  return p;
}

struct LtDeleter {
  void operator()(cublasLtMatmulDescOpaque_t* p) const { (void)cublasLtMatmulDescDestroy(p); }
  void operator()(cublasLtMatrixLayoutOpaque_t* p) const { (void)cublasLtMatrixLayoutDestroy(p); }
  void operator()(cublasLtMatmulPreferenceOpaque_t* p) const {
    (void)cublasLtMatmulPreferenceDestroy(p);
  }
};
using MatmulDesc = std::unique_ptr<cublasLtMatmulDescOpaque_t, LtDeleter>;
using Layout = std::unique_ptr<cublasLtMatrixLayoutOpaque_t, LtDeleter>;
using Preference = std::unique_ptr<cublasLtMatmulPreferenceOpaque_t, LtDeleter>;

template <typename T>
void set_attr(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr, const T& v) {
  CPPNN_CUDA_CHECK(cublasLtMatmulDescSetAttribute(d, attr, &v, sizeof v));
}
template <typename T>
void set_attr(cublasLtMatrixLayout_t l, cublasLtMatrixLayoutAttribute_t attr, const T& v) {
  CPPNN_CUDA_CHECK(cublasLtMatrixLayoutSetAttribute(l, attr, &v, sizeof v));
}
template <typename T>
void set_attr(cublasLtMatmulPreference_t p, cublasLtMatmulPreferenceAttributes_t attr, const T& v) {
  CPPNN_CUDA_CHECK(cublasLtMatmulPreferenceSetAttribute(p, attr, &v, sizeof v));
}

Layout make_layout(cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld, int64_t batch,
                   int64_t stride) {
  cublasLtMatrixLayout_t l = nullptr;
  CPPNN_CUDA_CHECK(cublasLtMatrixLayoutCreate(&l, type, uint64_t(rows), uint64_t(cols), ld));
  Layout owned(l);
  if (batch > 1) {
    set_attr(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, int32_t(batch));
    set_attr(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, stride);
  }
  return owned;
}

std::string dims_text(const Dims& d) { return to_string(d); }

class LtMatmulStep final : public Step {
 public:
  LtMatmulStep(std::shared_ptr<Device> device, const GraphIR& g, const Node& node,
               const std::vector<Placement>& places)
      : Step(node), device_(std::move(device)) {
    const OperandDescriptor& out = g.desc(node.outputs[0]);
    const OperandDescriptor& a = g.desc(node.inputs[0]);
    const OperandDescriptor& b = g.desc(node.inputs[1]);
    bool gemm = node.op == OpId::gemm;
    MatmulGeometry geo = gemm ? gemm_geometry(node, a.shape, out.shape)
                        : matmul_geometry(a.shape, b.shape, out.shape);
    type_ = out.data_type == DataType::float16    ? CUDA_R_16F
            : out.data_type == DataType::bfloat16 ? CUDA_R_16BF
                                                  : CUDA_R_32F;
    elem_ = element_size(out.data_type);
    a_base_ = device_ptr(places, node.inputs[0], "a");
    b_base_ = device_ptr(places, node.inputs[1], "b");
    d_base_ = static_cast<uint8_t*>(device_ptr(places, node.outputs[0], "output"));

    // Bias and C.
    std::string epilogue_text;
    const void* bias = nullptr;
    if (gemm) {
      alpha_ = float(node.attrs.f("alpha"));
      CPlan cp = plan_gemm_c(g, node);
      if (cp.form != CForm::none) {
        OperandId cid = node.inputs[2];
        const OperandInfo& c = g.operands[size_t(cid)];
        float beta = float(node.attrs.f("beta"));
        if (cp.form == CForm::matrix) {
          beta_ = beta;
          c_base_ = cp.expand ? upload_expanded_c(*c.data, geo.m, geo.n, out.data_type)
                              : device_ptr(places, cid, "c");
          epilogue_text = cp.expand ? "C = broadcast c" : "C = c";
        } else if (cp.form == CForm::into_output) {
          // Each run first copies c, broadcast, into the output; cuBLASLt then takes the
          // output as C (in place: same pointer, same layout) and scales it by beta.
          beta_ = beta;
          c_base_ = d_base_;
          broadcast_c_ = device_ptr(places, cid, "c");
          broadcast_.rank = 2;
          broadcast_.dims[0] = geo.m, broadcast_.dims[1] = geo.n;
          broadcast_.in_strides[0] = cp.rows == 1 ? 0 : cp.cols;
          broadcast_.in_strides[1] = cp.cols == 1 ? 0 : 1;
          broadcast_.out_strides[0] = geo.n, broadcast_.out_strides[1] = 1;
          epilogue_text = "C = c broadcast into the output";
        } else {
          bias = cp.prescale ? upload_bias_row(*c.data, beta, geo.n, out.data_type)
                             : device_ptr(places, cid, "c");
          epilogue_text = "bias = beta * c";
        }
      }
    } else if (node.inputs.size() > 2 && node.inputs[2] != kNoOperand) {
      bias = device_ptr(places, node.inputs[2], "bias");
      epilogue_text = "bias";
    }
    cublasLtEpilogue_t epilogue = bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    std::string act = node.attrs.s_or("activation", "");
    OpId act_op = find_op(act).value_or(OpId::none);
    if (act_op == OpId::relu) {
      epilogue = bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
    } else if (act_op == OpId::gelu && device_->options.gelu_epilogue) {
      epilogue = bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
    } else if (!act.empty()) {
      // split_epilogue_activations leaves no other activation on a GPU node.
      fail(ErrorKind::OperationError, "cuda plan: activation '" + act + "' left on a GPU " +
                                          op_name(node.op) + " node");
    }
    if (!act.empty()) epilogue_text += (epilogue_text.empty() ? "" : "+") + act;
    std::string head = node_name(node) + " " + dims_text(a.shape) + " x " + dims_text(b.shape) + ": ";
    std::string tail = epilogue_text.empty() ? "" : ", epilogue " + epilogue_text;

    // Our own kernels: where one takes the problem, a choice remembered from earlier (this
    // process or the runtime cache) may make cuBLASLt unneeded.
    OwnKernels mode = own_kernels(*device_);
    bool prefer_lt = false;
    // (Our kernels take float32 and float16, not bfloat16.)
    if (mode != OwnKernels::off && geo.calls.size() == 1 && !c_base_ && !broadcast_c_ && alpha_ == 1.0f &&
        !(device_->options.tf32 && type_ == CUDA_R_32F) && type_ != CUDA_R_16BF) {
      GemmProblem gp;
      gp.half = type_ == CUDA_R_16F;
      gp.m = geo.m, gp.n = geo.n, gp.k = geo.k, gp.a_trans = geo.a_trans, gp.b_trans = geo.b_trans;
      gp.batch = geo.batch, gp.a_stride = geo.a_stride, gp.b_stride = geo.b_stride;
      gp.a = static_cast<const uint8_t*>(a_base_) + geo.calls[0].a * int64_t(elem_);
      gp.b = static_cast<const uint8_t*>(b_base_) + geo.calls[0].b * int64_t(elem_);
      gp.d = d_base_ + geo.calls[0].d * int64_t(elem_);
      gp.bias = bias;
      gp.activation = act_op == OpId::relu   ? kConvActRelu
                      : act_op == OpId::gelu ? kConvActGelu
                                             : kConvActNone;
      const OperandInfo& bo = g.operands[size_t(node.inputs[1])];
      if (bo.role == OperandRole::constant && geo.calls[0].b == 0) gp.b_host = places[size_t(node.inputs[1])].host;
      own_ = OwnGemm(gp, node_name(node), *device_, device_->stream_for_this_thread());
      if (own_.possible()) {
        // Everything but the rows, which a dynamic graph's batch and sequence vary: the
        // family's key (family_signature); the problem's own key adds them.
        char rest[224];
        std::snprintf(rest, sizeof rest,
                      "n%lld k%lld ta%d tb%d b%lld sa%lld sb%lld bias%d act%d %s x%d margin%g sm%d",
                      (long long)geo.n, (long long)geo.k, int(geo.a_trans), int(geo.b_trans),
                      (long long)geo.batch, (long long)geo.a_stride, (long long)geo.b_stride, bias ? 1 : 0,
                      gp.activation, own_.name(0).c_str(), own_.variants(), own_kernel_margin(*device_),
                      device_->sm);
        char key[320];
        std::snprintf(key, sizeof key, "lt-matmul/1 t%d m%lld %s", int(type_), (long long)geo.m, rest);
        own_sig_ = key;
        std::snprintf(key, sizeof key, "lt-matmul/1 t%d %s", int(type_), rest);
        family_sig_ = family_signature(key);
        prefer_lt = choose_remembered_own(mode);
        if (own_variant_ >= 0) {
          description_ = head + own_.description(own_variant_) + " (" + own_source_ + ")" + tail;
          return;
        }
      }
    }

    bool batched = geo.batch > 1 && (geo.a_stride == 0 || geo.b_stride == 0);
    bool built = try_build(geo, bias, epilogue);
    if (!built && batched && try_build(unbatched(geo), bias, epilogue)) {
      geo = unbatched(geo);
      built = true;
    }
    if (!built && !own_.possible())
      fail(ErrorKind::NotSupportedError,
           "cuBLASLt has no algorithm for this " + op_name(node.op) + " (" +
               std::to_string(geo.m) + "x" + std::to_string(geo.k) + "x" +
               std::to_string(geo.n) + ")");
    if (own_.possible() && !prefer_lt && (mode == OwnKernels::timed || !built)) {
      if (device_->untimed_choices) {
        // A run-time shape with no choice remembered: cuBLASLt's heuristic where it took the
        // problem, else our kernel's untimed variant.
        if (!built) choose_untimed_own("untimed: new shape");
      } else {
        time_against_own(built);
      }
      if (own_variant_ >= 0) {
        description_ = head + own_.description(own_variant_) + " (" + own_source_ + ")" + tail;
        return;
      }
    }

    description_ = head + "cuda cuBLASLt " +
                   (type_ == CUDA_R_16F    ? "fp16"
                    : type_ == CUDA_R_16BF ? "bf16"
                    : device_->options.tf32 ? "tf32"
                                            : "fp32") +
                   ", " + std::to_string(calls_.size()) + (calls_.size() == 1 ? " call" : " calls") +
                   (geo.batch > 1 ? " of batch " + std::to_string(geo.batch) : "") + tail;
  }

  bool on_device() const override { return true; }

  void run(cudaStream_t stream) override {
    if (own_variant_ >= 0) {
      CPPNN_CUDA_CHECK(own_.launch(own_variant_, stream));
      return;
    }
    enqueue_lt(stream, device_->workspace.data());
  }

  std::string describe() const override { return description_; }

 private:
  void enqueue_lt(cudaStream_t stream, void* workspace) {
    if (broadcast_c_)
      CPPNN_CUDA_CHECK(movement::launch_strided_copy(broadcast_c_, d_base_, broadcast_, int(elem_),
                                                     int(device_->max_grid_blocks()), stream));
    for (const Call& c : calls_)
      CPPNN_CUDA_CHECK(cublasLtMatmul(device_->lt, desc_.get(), &alpha_, c.first, first_.get(),
                                      c.second, second_.get(), &beta_, c.c, c_layout(), c.d,
                                      d_.get(), &algo_, workspace, workspace_bytes_, stream));
  }

  static std::string lt_version() { return "cublasLt" + std::to_string(cublasLtGetVersion()); }

  // A heuristic's answer as text: the algorithm's bytes in hex, then its workspace size.
  static std::string algo_text(const cublasLtMatmulHeuristicResult_t& r) {
    static_assert(sizeof r.algo == 64, "cublasLtMatmulAlgo_t is 8 uint64 words");
    const auto* bytes = reinterpret_cast<const unsigned char*>(&r.algo);
    std::string text;
    char hex[3];
    for (size_t i = 0; i < sizeof r.algo; ++i) {
      std::snprintf(hex, sizeof hex, "%02x", bytes[i]);
      text += hex;
    }
    return text + " ws" + std::to_string(r.workspaceSize);
  }

  // The inverse of algo_text; false (and `r` unchanged) for anything else. The workspace
  // must fit the device's, which the problem's key already names.
  bool parse_algo(const std::string& text, cublasLtMatmulHeuristicResult_t* r) const {
    constexpr size_t kHex = 2 * sizeof(cublasLtMatmulAlgo_t);
    if (text.size() < kHex + 4 || text.compare(kHex, 3, " ws") != 0) return false;
    cublasLtMatmulAlgo_t algo{};
    auto* bytes = reinterpret_cast<unsigned char*>(&algo);
    auto nibble = [](char c) -> int {
      return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    for (size_t i = 0; i < sizeof algo; ++i) {
      int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
      if (hi < 0 || lo < 0) return false;
      bytes[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    const std::string digits = text.substr(kHex + 3);
    if (digits.empty() || digits.size() > 19 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      return false;
    unsigned long long ws = std::stoull(digits);
    if (ws > device_->workspace.bytes()) return false;
    *r = cublasLtMatmulHeuristicResult_t{};
    r->algo = algo;
    r->workspaceSize = size_t(ws);
    r->state = CUBLAS_STATUS_SUCCESS;
    return true;
  }

  // Takes our kernel when the choice remembered for own_sig_ names one of its variants
  // (checked by one run when the runtime cache gave it), or untimed in "only" mode. Returns
  // true when the remembered choice is cuBLASLt.
  bool choose_remembered_own(OwnKernels mode) {
    cudaStream_t stream = device_->stream_for_this_thread();
    if (mode == OwnKernels::only) {
      choose_untimed_own("own kernels only");
      return false;
    }
    bool from_cache = false, family = false;
    std::optional<std::string> text;
    {
      BuildPhase t("matmul: cache lookup");
      text = recall_choice(own_sig_, device_->sm, lt_version(), &from_cache);
      // A run-time shape: what was chosen for the same product at another number of rows.
      if (!text && device_->untimed_choices) {
        text = recall_choice(family_sig_, device_->sm, lt_version(), &from_cache);
        family = text.has_value();
      }
    }
    if (!text) return false;
    if (*text == "cublaslt") return true;
    int v = own_.variant_named(*text);
    if (v < 0) return false;
    if (from_cache) {
      BuildPhase t("matmul: check run");
      std::lock_guard<std::mutex> exclusive(device_->gpu_timing);
      if (!run_once(stream, [&](cudaStream_t st) { CPPNN_CUDA_CHECK(own_.launch(v, st)); })) return false;
      remember_choice(family ? family_sig_ : own_sig_, device_->sm, lt_version(), *text, /*persist=*/false);
    }
    own_variant_ = v;
    own_source_ = family ? "chosen at another shape" : from_cache ? "runtime cache" : "chosen earlier";
    return false;
  }

  // Our kernel's variant for an untimed choice, kept if one run of it works.
  void choose_untimed_own(const char* source) {
    int v = own_.untimed_variant(*device_);
    std::lock_guard<std::mutex> exclusive(device_->gpu_timing);
    if (run_once(device_->stream_for_this_thread(), [&](cudaStream_t st) { CPPNN_CUDA_CHECK(own_.launch(v, st)); }))
      own_variant_ = v, own_source_ = source;
  }

  // Times cuBLASLt's algorithm (when `lt_built`) against each variant of our kernel, keeps
  // the fastest and remembers it.
  void time_against_own(bool lt_built) {
    cudaStream_t stream = device_->stream_for_this_thread();
    float lt_ms = INFINITY, own_ms = INFINITY;
    int best = -1;
    {
      BuildPhase t("matmul: timing");
      std::lock_guard<std::mutex> exclusive(device_->gpu_timing);
      if (lt_built) {
        // A workspace of its own: the device's may be in use by a dispatch still running.
        DeviceBuffer ws(workspace_bytes_, "cuBLASLt's workspace while timing " + node_name(node()));
        if (std::optional<float> ms = time_enqueue(stream, [&](cudaStream_t st) { enqueue_lt(st, ws.data()); }))
          lt_ms = *ms;
      }
      for (int v = 0; v < own_.variants(); ++v) {
        std::optional<float> ms =
            time_enqueue(stream, [&](cudaStream_t st) { CPPNN_CUDA_CHECK(own_.launch(v, st)); });
        if (ms && *ms < own_ms) own_ms = *ms, best = v;
      }
    }
    // Ours unless cuBLASLt is faster by more than the margin (CPPNN_CUDA_OWN_MARGIN).
    if (best >= 0 && own_ms > lt_ms * (1.0 + own_kernel_margin(*device_))) best = -1;
    if (best < 0 && !lt_built)
      fail(ErrorKind::NotSupportedError, "neither cuBLASLt nor our kernel ran " + node_name(node()));
    own_variant_ = best, own_source_ = "timed";
    remember_choice(own_sig_, device_->sm, lt_version(), best >= 0 ? own_.name(best) : "cublaslt");
    remember_choice(family_sig_, device_->sm, lt_version(), best >= 0 ? own_.name(best) : "cublaslt");
  }

  // One cuBLASLt call's pointers, in cuBLASLt's column-major terms (see try_build).
  struct Call {
    const void* first;
    const void* second;
    const void* c;
    void* d;
  };

  static void* device_ptr(const std::vector<Placement>& places, OperandId id, const char* what) {
    void* p = places[size_t(id)].device;
    if (!p)
      fail(ErrorKind::OperationError, std::string("cuda plan: operand '") + what +
                                          "' of a GPU matmul has no device copy");
    return p;
  }

  cublasLtMatrixLayout_t c_layout() const { return c_ ? c_.get() : d_.get(); }

  // Row-major D = op(a) op(b) is column-major D^T = op(b)^T op(a)^T: cuBLASLt's first
  // operand is our b, its second our a, and D^T's rows are our columns, so the epilogue's
  // bias (one value per row of D^T) is per output column, as WebNN's bias is.
  bool try_build(const MatmulGeometry& geo, const void* bias, cublasLtEpilogue_t epilogue) {
    cublasComputeType_t compute =
        type_ == CUDA_R_32F && device_->options.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    cublasLtMatmulDesc_t d = nullptr;
    CPPNN_CUDA_CHECK(cublasLtMatmulDescCreate(&d, compute, CUDA_R_32F));
    desc_.reset(d);
    cublasOperation_t op_first = geo.b_trans ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t op_second = geo.a_trans ? CUBLAS_OP_T : CUBLAS_OP_N;
    set_attr(d, CUBLASLT_MATMUL_DESC_TRANSA, op_first);
    set_attr(d, CUBLASLT_MATMUL_DESC_TRANSB, op_second);
    set_attr(d, CUBLASLT_MATMUL_DESC_EPILOGUE, epilogue);
    if (bias) set_attr(d, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias);

    int64_t m = geo.m, n = geo.n, k = geo.k;
    first_ = geo.b_trans ? make_layout(type_, k, n, k, geo.batch, geo.b_stride)
                         : make_layout(type_, n, k, n, geo.batch, geo.b_stride);
    second_ = geo.a_trans ? make_layout(type_, m, k, m, geo.batch, geo.a_stride)
                          : make_layout(type_, k, m, k, geo.batch, geo.a_stride);
    d_ = make_layout(type_, n, m, n, geo.batch, m * n);
    c_.reset();
    if (c_base_) c_ = make_layout(type_, n, m, n, geo.batch, m * n);

    calls_.clear();
    uint32_t align_first = 256, align_second = 256, align_d = 256, align_c = 256;
    for (const MatmulGeometry::Offsets& o : geo.calls) {
      Call call{static_cast<const uint8_t*>(b_base_) + o.b * int64_t(elem_),
                static_cast<const uint8_t*>(a_base_) + o.a * int64_t(elem_),
                c_base_ ? c_base_ : d_base_ + o.d * int64_t(elem_), d_base_ + o.d * int64_t(elem_)};
      align_first = std::min(align_first, alignment_of(call.first));
      align_second = std::min(align_second, alignment_of(call.second));
      align_c = std::min(align_c, alignment_of(call.c));
      align_d = std::min(align_d, alignment_of(call.d));
      calls_.push_back(call);
    }

    cublasLtMatmulPreference_t p = nullptr;
    CPPNN_CUDA_CHECK(cublasLtMatmulPreferenceCreate(&p));
    Preference pref(p);
    set_attr(p, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, uint64_t(device_->workspace.bytes()));
    set_attr(p, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, align_first);
    set_attr(p, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, align_second);
    set_attr(p, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, align_c);
    set_attr(p, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, align_d);
    // The heuristic's answer depends on nothing but this problem's description: the
    // same matmul (every layer of a transformer has the same few) asks once per process.
    char sig[512];
    std::snprintf(sig, sizeof sig,
                  "sm%d c%d t%d ta%d tb%d e%d bias%d m%lld n%lld k%lld b%lld sa%lld sb%lld c%d "
                  "al%u,%u,%u,%u ws%zu",
                  device_->sm, int(compute), int(type_), int(op_first), int(op_second),
                  int(epilogue), bias ? 1 : 0, (long long)m, (long long)n, (long long)k,
                  (long long)geo.batch, (long long)geo.a_stride, (long long)geo.b_stride,
                  c_base_ ? 1 : 0, align_first, align_second, align_c, align_d,
                  device_->workspace.bytes());
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
    {
      // Asked once per problem and process, outside the lock: build workers ask about
      // different problems at once, and one asking about a problem another is already
      // asking about waits for that answer.
      using Answer = std::pair<cublasStatus_t, cublasLtMatmulHeuristicResult_t>;
      static std::mutex mutex;
      static std::map<std::string, std::shared_future<Answer>> known;
      std::shared_future<Answer> future;
      std::optional<std::promise<Answer>> mine;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (auto it = known.find(sig); it != known.end()) {
          future = it->second;
        } else {
          mine.emplace();
          future = mine->get_future().share();
          known.emplace(sig, future);
        }
      }
      if (mine) {
        try {
          // The heuristic's answer is kept in the runtime cache, keyed by the problem's
          // description, the GPU's architecture and cuBLASLt's version: cuBLASLt documents
          // cublasLtMatmulAlgo_t as plain data that may be stored and used again with the
          // same library version. A warm start then asks nothing (the heuristic cost 10-100
          // ms per distinct problem in a fresh process on the H100, 485 ms of build-thread
          // time for BERT-base), and runs the algorithm unchecked: cuBLASLt's own check of
          // a stored algorithm (cublasLtMatmulAlgoCheck) costs as much as asking again.
          std::string key = std::string("lt-algo/1 ") + sig;
          std::optional<std::string> stored;
          {
            BuildPhase t("matmul: cache lookup");
            stored = recall_choice(key, device_->sm, lt_version());
          }
          // One run of the stored algorithm here, on this build worker, as the conv steps'
          // check run: it loads the algorithm's kernel (cuBLASLt's code loads on first use,
          // which the heuristic did before; unrun, the load moved into the first compute's
          // capture, serially: BERT-base's warm plan built in 76 ms instead of 173, but its
          // first compute took 145 ms instead of 28 on the H100), and an algorithm that does
          // not run here after all is asked for again.
          bool ran = false;
          if (stored && parse_algo(*stored, &result)) {
            BuildPhase t("matmul: check run");
            algo_ = result.algo;
            workspace_bytes_ = result.workspaceSize;
            std::lock_guard<std::mutex> exclusive(device_->gpu_timing);
            DeviceBuffer ws(workspace_bytes_, "cuBLASLt's workspace while checking " + node_name(node()));
            ran = run_once(device_->stream_for_this_thread(),
                           [&](cudaStream_t st) { enqueue_lt(st, ws.data()); });
          }
          if (ran) {
            mine->set_value(Answer{CUBLAS_STATUS_SUCCESS, result});
          } else {
            BuildPhase t("matmul: heuristic");
            status = cublasLtMatmulAlgoGetHeuristic(device_->lt, d, first_.get(), second_.get(),
                                                    c_layout(), d_.get(), p, 1, &result, &found);
            if (status == CUBLAS_STATUS_SUCCESS && found == 0) status = CUBLAS_STATUS_NOT_SUPPORTED;
            if (status == CUBLAS_STATUS_SUCCESS) remember_choice(key, device_->sm, lt_version(), algo_text(result));
            mine->set_value(Answer{status, result});
          }
        } catch (...) {
          mine->set_exception(std::current_exception());
          std::lock_guard<std::mutex> lock(mutex);
          known.erase(sig);  // the next step asks again
          throw;
        }
      }
      const Answer* answer = &future.get();
      status = answer->first;
      result = answer->second;
      found = status == CUBLAS_STATUS_SUCCESS ? 1 : 0;
    }
    // NOT_SUPPORTED is cuBLASLt's "no algorithm for this problem", INVALID_VALUE its answer
    // to layouts it does not take (a broadcast batch, say): the caller decides what next.
    if (status == CUBLAS_STATUS_NOT_SUPPORTED || status == CUBLAS_STATUS_INVALID_VALUE ||
        (status == CUBLAS_STATUS_SUCCESS && found == 0))
      return false;
    CPPNN_CUDA_CHECK(status);
    algo_ = result.algo;
    workspace_bytes_ = result.workspaceSize;
    return true;
  }

  // gemm's c broadcast to [m, n] once (a constant column or scalar-like matrix).
  const void* upload_expanded_c(const Tensor& c, int64_t m, int64_t n, DataType type) {
    Dims cs = c.shape();
    while (cs.size() < 2) cs.insert(cs.begin(), 1);
    std::vector<double> v = c.to_doubles();
    Tensor full(type, {m, n});
    if (type == DataType::bfloat16) {  // no templated type (core/dispatch.h)
      uint16_t* p = full.data_as<uint16_t>();
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j)
          p[i * n + j] = float_to_bfloat16(
              float(v[size_t((cs[0] == 1 ? 0 : i) * cs[1] + (cs[1] == 1 ? 0 : j))]));
      return upload(full, "gemm's broadcast c");
    }
    visit_type(type, [&]<typename T>() {
      T* p = full.data_as<T>();
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j)
          p[i * n + j] = from_double<T>(v[size_t((cs[0] == 1 ? 0 : i) * cs[1] + (cs[1] == 1 ? 0 : j))]);
    });
    return upload(full, "gemm's broadcast c");
  }

  // beta * c as the epilogue's bias row, rounded once to the data type (as the CPU does).
  const void* upload_bias_row(const Tensor& c, float beta, int64_t n, DataType type) {
    std::vector<double> v = c.to_doubles();
    Tensor row(type, {n});
    if (type == DataType::bfloat16) {
      uint16_t* p = row.data_as<uint16_t>();
      for (int64_t j = 0; j < n; ++j)
        p[j] = float_to_bfloat16(beta * float(v[v.size() == 1 ? 0 : size_t(j)]));
      return upload(row, "gemm's bias row");
    }
    visit_type(type, [&]<typename T>() {
      T* p = row.data_as<T>();
      for (int64_t j = 0; j < n; ++j)
        p[j] = from_double<T>(double(beta * float(v[v.size() == 1 ? 0 : size_t(j)])));
    });
    return upload(row, "gemm's bias row");
  }

  const void* upload(const Tensor& t, const std::string& what) {
    owned_.emplace_back(t.byte_size(), what);
    // On this thread's build stream, as the convolution steps' uploads (non-blocking: it
    // would not wait for a legacy-stream copy).
    cudaStream_t stream = device_->stream_for_this_thread();
    CPPNN_CUDA_CHECK(cudaMemcpyAsync(owned_.back().data(), t.data(), t.byte_size(),
                                     cudaMemcpyHostToDevice, stream));
    CPPNN_CUDA_CHECK(cudaStreamSynchronize(stream));
    return owned_.back().data();
  }

  std::shared_ptr<Device> device_;
  cudaDataType_t type_ = CUDA_R_32F;
  size_t elem_ = 4;
  const void* a_base_ = nullptr;
  const void* b_base_ = nullptr;
  const void* c_base_ = nullptr;
  uint8_t* d_base_ = nullptr;
  const void* broadcast_c_ = nullptr;  // CForm::into_output: c, copied into D before each run
  movement::StridedCopy broadcast_;
  float alpha_ = 1, beta_ = 0;
  MatmulDesc desc_;
  Layout first_, second_, c_, d_;
  cublasLtMatmulAlgo_t algo_{};
  size_t workspace_bytes_ = 0;
  std::vector<Call> calls_;
  std::vector<DeviceBuffer> owned_;
  std::string description_;
  OwnGemm own_;
  std::string own_sig_, family_sig_;
  int own_variant_ = -1;  // >= 0: our kernel in this variant runs the step
  std::string own_source_;
};

}  // namespace

// Whether cuBLASLt's epilogue applies a fused activation (of a node's "activation").
bool lt_epilogue_has(OpId activation, const Device& device) {
  return activation == OpId::relu || (activation == OpId::gelu && device.options.gelu_epilogue);
}

std::unique_ptr<Step> make_lt_matmul_step(std::shared_ptr<Device> device, const GraphIR& g,
                                          const Node& node, const std::vector<Placement>& places) {
  return std::make_unique<LtMatmulStep>(std::move(device), g, node, places);
}

}  // namespace cppnn::detail::cuda
