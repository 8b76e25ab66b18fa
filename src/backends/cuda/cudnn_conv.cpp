// conv2d and convTranspose2d on cuDNN 9's legacy API.
//
// conv2d is cudnnConvolutionForward (or cudnnConvolutionBiasActivationForward when the
// fused epilogue is bias + relu / bias alone and cuDNN takes it); convTranspose2d is
// cudnnConvolutionBackwardData, whose filter [K, C/g, R, S] is convTranspose2d's iohw.
// The fused residual is added by cuDNN's beta = 1 on an output that already holds it (the
// memory plan usually gives the residual the output's bytes; otherwise it is copied there
// first). Bias and every fused activation that cuDNN does not apply run in one epilogue
// kernel (kernels/conv_epilogue.cu), so nothing is ever split off the node.
//
// Filters: a constant filter is reordered once on the host into the layout cuDNN is given
// (KCRS for nchw, KRSC for nhwc) and uploaded into a buffer the step owns; a filter computed
// at run time is reordered by a kernel each run (or used as it is when already in that
// layout). Padding: cuDNN's padding is symmetric; an asymmetric conv2d padding whose output
// size symmetric padding reproduces needs nothing more, any other is applied by padding the
// input explicitly into a scratch buffer. convTranspose2d takes cuDNN's pad = begin, which
// is exact whenever cuDNN accepts the output size; for other paddings cuDNN computes the whole
// transposed output and the step crops it.
//
// Our own kernels (own_conv.h; switched by CPPNN_CUDA_OWN_KERNELS, device.h): where one takes
// the node, it is timed as one more candidate beside cuDNN's, and cached like them.
//
// Math: fp32 is exact fp32 (CUDNN_FMA_MATH: no TF32) unless CPPNN_CUDA_TF32=1; fp16 uses
// tensor cores (CUDNN_TENSOR_OP_MATH) with float accumulation. The algorithm: cuDNN's
// heuristic ranking, the first kCandidates that fit kMaxWorkspace timed at step creation
// (replayed from a CUDA graph, as the plan runs them), the fastest kept, remembered per
// process and in the runtime cache.
#include <cudnn.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

#include "backends/cuda/candidate_choice.h"
#include "backends/cuda/conv_geometry.h"
#include "backends/cuda/cudnn_conv.h"
#include "backends/cuda/device_ops.h"
#include "backends/cuda/own_conv.h"
#include "backends/cuda/kernels/conv_epilogue.h"
#include "core/dispatch.h"
#include "graph/op_table.h"

namespace cppnn::detail::cuda {

namespace {

constexpr size_t kMaxWorkspace = size_t(256) << 20;
constexpr int kCandidates = 3;

void check_cudnn(cudnnStatus_t status, const char* call) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  fail(ErrorKind::OperationError,
       std::string("cuDNN call ") + call + " failed: " + cudnnGetErrorString(status));
}
#define CPPNN_CUDNN_CHECK(call) check_cudnn((call), #call)

bool has_input(const Node& node, size_t i) {
  return node.inputs.size() > i && node.inputs[i] != kNoOperand;
}

// Owning wrappers of cuDNN's descriptors.
struct DescDeleter {
  void operator()(cudnnTensorStruct* p) const { (void)cudnnDestroyTensorDescriptor(p); }
  void operator()(cudnnFilterStruct* p) const { (void)cudnnDestroyFilterDescriptor(p); }
  void operator()(cudnnConvolutionStruct* p) const { (void)cudnnDestroyConvolutionDescriptor(p); }
  void operator()(cudnnActivationStruct* p) const { (void)cudnnDestroyActivationDescriptor(p); }
};
using TensorDesc = std::unique_ptr<cudnnTensorStruct, DescDeleter>;
using FilterDesc = std::unique_ptr<cudnnFilterStruct, DescDeleter>;
using ConvDesc = std::unique_ptr<cudnnConvolutionStruct, DescDeleter>;
using ActivationDesc = std::unique_ptr<cudnnActivationStruct, DescDeleter>;

TensorDesc tensor_desc(cudnnTensorFormat_t format, cudnnDataType_t type, int64_t n, int64_t c,
                       int64_t h, int64_t w) {
  cudnnTensorDescriptor_t d = nullptr;
  CPPNN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
  TensorDesc owned(d);
  CPPNN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, format, type, int(n), int(c), int(h), int(w)));
  return owned;
}

const char* fwd_algo_name(int a) {
  static const char* names[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                                "FFT",           "FFT_TILING",            "WINOGRAD",
                                "WINOGRAD_NONFUSED"};
  return a >= 0 && a < 8 ? names[a] : "?";
}
const char* bwd_algo_name(int a) {
  static const char* names[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD",
                                "WINOGRAD_NONFUSED"};
  return a >= 0 && a < 6 ? names[a] : "?";
}

std::string mib(size_t bytes) {
  std::ostringstream s;
  s.precision(bytes < (size_t(10) << 20) ? 2 : 0);
  s << std::fixed << double(bytes) / double(1 << 20) << " MiB";
  return s.str();
}

// An algorithm chosen for one signature: the cuDNN enum value and whether the fused
// cudnnConvolutionBiasActivationForward runs it, or one of our own kernels.
struct Choice {
  int algo = -1;
  bool fused = false;
  int own = -1;  // >= 0: the variant of the step's own kernel (own_conv.h)
  bool is_own() const { return own >= 0; }
};
Choice own_choice(int variant) { return Choice{-1, true, variant}; }

// How the process memo and the runtime cache write a choice: our kernel's variant name, or
// cuDNN's "algo,fused".
std::string choice_text(const Choice& c, const OwnConv& own) {
  return c.is_own() ? own.name(c.own) : std::to_string(c.algo) + "," + std::to_string(c.fused ? 1 : 0);
}
std::optional<Choice> parse_choice(const std::string& text, const OwnConv& own) {
  Choice c;
  if (int v = own.variant_named(text); v >= 0) return own_choice(v);
  int fused = 0;
  if (std::sscanf(text.c_str(), "%d,%d", &c.algo, &fused) != 2) return std::nullopt;
  c.fused = fused != 0;
  return c;
}

std::string cudnn_version() { return "cudnn" + std::to_string(cudnnGetVersion()); }

class CudnnConvStep final : public Step {
 public:
  CudnnConvStep(std::shared_ptr<Device> device, const GraphIR& g, const Node& node,
                const std::vector<Placement>& places)
      : Step(node), device_(std::move(device)), s_(conv_geometry(g, node)) {
    if (!s_.why_not.empty()) fail(ErrorKind::NotSupportedError, s_.why_not);
    build_stream_ = device_->stream_for_this_thread();
    elem_ = s_.half || s_.bf16 ? 2 : 4;
    if (s_.bf16) own_mode_ = OwnKernels::off;  // our kernels would read it as float32

    x_ = device_address(places, node.inputs[0], node, "input");
    y_ = device_address(places, node.outputs[0], node, "output");
    y_bytes_ = places[size_t(node.outputs[0])].bytes;
    if (has_input(node, 2)) bias_ = device_address(places, node.inputs[2], node, "bias");
    if (!s_.transposed && has_input(node, 3))
      residual_ = device_address(places, node.inputs[3], node, "residual");
    std::string act = node.attrs.s_or("activation", "");
    act_ = conv_activation_code(act);
    if (act_ < 0) fail(ErrorKind::NotSupportedError, "fused activation '" + act + "'");
    if (act_ == kConvActClamp) {
      lo_ = float(node.attrs.f("activationMin"));
      hi_ = float(node.attrs.f("activationMax"));
    } else if (act_ == kConvActLeakyRelu || act_ == kConvActElu) {
      alpha_ = float(node.attrs.f("activationAlpha"));
    }

    {
      BuildPhase t("conv: filter");
      prepare_filter(g, node, places);
      if (own_mode_ != OwnKernels::off) {
        OperandId fid = node.inputs[1];
        const void* host_filter = g.operands[size_t(fid)].role == OperandRole::constant
                                      ? places[size_t(fid)].host
                                      : nullptr;
        own_ = OwnConv(s_, ConvOperands{x_, w_, bias_, residual_, y_, act_, lo_, hi_, alpha_},
                       host_filter, node_name(node), *device_, build_stream_);
      }
    }
    if (s_.explicit_pad)
      padded_ = DeviceBuffer(size_t(s_.n * s_.c * s_.xh * s_.xw) * elem_,
                             "the explicitly padded input of " + node_name(node));
    if (s_.crop)
      uncropped_ = DeviceBuffer(size_t(s_.n * s_.k * s_.yh * s_.yw) * elem_,
                                "the uncropped output of " + node_name(node));
    {
      BuildPhase t("conv: descriptors");
      build_descriptors();
    }
    choose_algorithm(node);
    describe_text(g, node, act);
  }

  bool on_device() const override { return true; }

  void run(cudaStream_t stream) override { enqueue(stream, choice_, workspace_); }

  std::string describe() const override { return description_; }

 private:
  unsigned grid(int64_t total) const { return device_->grid_blocks(total, 256); }

  // The filter in the layout cuDNN is given: reordered on the host once when constant,
  // else by a kernel per run unless it is already in that layout.
  void prepare_filter(const GraphIR& g, const Node& node, const std::vector<Placement>& places) {
    OperandId fid = node.inputs[1];
    const Placement& fp = places[size_t(fid)];
    int64_t fa = s_.fa, fb = s_.fb, kh = s_.kh, kw = s_.kw;
    bool dst_nhwc = s_.nhwc;
    bool identity = dst_nhwc ? (s_.sa == kh * kw * fb && s_.sy == kw * fb && s_.sx == fb && s_.sb == 1)
                             : (s_.sa == fb * kh * kw && s_.sb == kh * kw && s_.sy == kw && s_.sx == 1);
    bool constant = g.operands[size_t(fid)].role == OperandRole::constant && fp.host;
    size_t bytes = size_t(fa * fb * kh * kw) * elem_;
    if (identity) {
      w_ = device_address(places, fid, node, "filter");
      if (w_) return;
    }
    filter_ = DeviceBuffer(bytes, "the reordered filter of " + node_name(node));
    w_ = filter_.data();
    if (!constant) {
      reorder_ = ConvFilterParams{device_address(places, fid, node, "filter"), filter_.data(),
                                  fa, fb, kh, kw, s_.sa, s_.sb, s_.sy, s_.sx, dst_nhwc ? 1 : 0,
                                  int(elem_)};
      reorder_filter_ = true;
      return;
    }
    std::vector<uint8_t> host(bytes);
    const uint8_t* src = static_cast<const uint8_t*>(fp.host);
    size_t i = 0;
    auto copy = [&](int64_t a, int64_t b, int64_t y, int64_t x) {
      std::memcpy(&host[i * elem_], src + size_t(a * s_.sa + b * s_.sb + y * s_.sy + x * s_.sx) * elem_,
                  elem_);
      ++i;
    };
    for (int64_t a = 0; a < fa; ++a) {
      if (dst_nhwc) {
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t x = 0; x < kw; ++x)
            for (int64_t b = 0; b < fb; ++b) copy(a, b, y, x);
      } else {
        for (int64_t b = 0; b < fb; ++b)
          for (int64_t y = 0; y < kh; ++y)
            for (int64_t x = 0; x < kw; ++x) copy(a, b, y, x);
      }
    }
    // On this thread's build stream (non-blocking: it would not wait for a legacy-stream
    // copy); the host bytes die with this function, so wait for the copy.
    CPPNN_CUDA_CHECK(cudaMemcpyAsync(filter_.data(), host.data(), bytes, cudaMemcpyHostToDevice,
                                     build_stream_));
    CPPNN_CUDA_CHECK(cudaStreamSynchronize(build_stream_));
  }

  void build_descriptors() {
    cudnnDataType_t type = s_.half ? CUDNN_DATA_HALF : s_.bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    cudnnTensorFormat_t format = s_.nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    x_desc_ = tensor_desc(format, type, s_.n, s_.c, s_.xh, s_.xw);
    y_desc_ = tensor_desc(format, type, s_.n, s_.k, s_.yh, s_.yw);
    cudnnFilterDescriptor_t f = nullptr;
    CPPNN_CUDNN_CHECK(cudnnCreateFilterDescriptor(&f));
    w_desc_.reset(f);
    CPPNN_CUDNN_CHECK(cudnnSetFilter4dDescriptor(f, type, format, int(s_.fa), int(s_.fb),
                                                 int(s_.kh), int(s_.kw)));
    cudnnConvolutionDescriptor_t c = nullptr;
    CPPNN_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&c));
    conv_desc_.reset(c);
    CPPNN_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        c, int(s_.cudnn_pad_h), int(s_.cudnn_pad_w), int(s_.stride_h), int(s_.stride_w),
        int(s_.dil_h), int(s_.dil_w), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CPPNN_CUDNN_CHECK(cudnnSetConvolutionGroupCount(c, int(s_.groups)));
    // fp32: FMA only (exact fp32, no TF32) unless TF32 was asked for; fp16 and bf16 (float
    // accumulation, the convolution descriptor's CUDNN_DATA_FLOAT): tensor cores.
    math_ = s_.half || s_.bf16 ? CUDNN_TENSOR_OP_MATH
            : device_->options.tf32 ? CUDNN_DEFAULT_MATH
                                    : CUDNN_FMA_MATH;
    CPPNN_CUDNN_CHECK(cudnnSetConvolutionMathType(c, math_));
    if (can_fuse_some()) {
      bias_desc_ = tensor_desc(CUDNN_TENSOR_NCHW, type, 1, s_.k, 1, 1);
      cudnnActivationDescriptor_t a = nullptr;
      CPPNN_CUDNN_CHECK(cudnnCreateActivationDescriptor(&a));
      act_desc_.reset(a);
      CPPNN_CUDNN_CHECK(cudnnSetActivationDescriptor(
          a, act_ == kConvActRelu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
          CUDNN_PROPAGATE_NAN, 0.0));
    }
  }

  // cudnnConvolutionBiasActivationForward computes act(conv + z + bias) with act relu or
  // identity (identity only with IMPLICIT_PRECOMP_GEMM); z is the residual when there is one.
  bool can_fuse_some() const {
    return !s_.transposed && bias_ && (act_ == kConvActRelu || act_ == kConvActNone);
  }
  bool can_fuse(int algo) const {
    return can_fuse_some() &&
           (act_ == kConvActRelu || algo == int(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM));
  }
  bool needs_epilogue(const Choice& c) const {
    return !c.is_own() && !c.fused && (bias_ || act_ != kConvActNone);
  }

  bool own_possible() const { return own_.kind() != OwnKernel::none; }

  // cuDNN's workspace for an algorithm; nullopt when it refuses the algorithm.
  std::optional<size_t> workspace_size(int algo) const {
    size_t bytes = 0;
    cudnnStatus_t status =
        s_.transposed
            ? cudnnGetConvolutionBackwardDataWorkspaceSize(
                  handle(), w_desc_.get(), x_desc_.get(), conv_desc_.get(), y_desc_.get(),
                  cudnnConvolutionBwdDataAlgo_t(algo), &bytes)
            : cudnnGetConvolutionForwardWorkspaceSize(handle(), x_desc_.get(), w_desc_.get(),
                                                      conv_desc_.get(), y_desc_.get(),
                                                      cudnnConvolutionFwdAlgo_t(algo), &bytes);
    if (status != CUDNN_STATUS_SUCCESS) return std::nullopt;
    return bytes;
  }

  // Everything a run enqueues, for a given choice and workspace (also used to time them).
  void enqueue(cudaStream_t stream, const Choice& c, const DeviceBuffer& ws) {
    if (c.is_own()) {
      if (reorder_filter_ && own_.filter() == filter_.data())
        CPPNN_CUDA_CHECK(launch_conv_filter_reorder(
            reorder_, grid(s_.fa * s_.fb * s_.kh * s_.kw), stream));
      CPPNN_CUDA_CHECK(own_.launch(*device_, c.own, stream));
      return;
    }
    CPPNN_CUDNN_CHECK(cudnnSetStream(handle(), stream));
    const void* x = x_;
    if (s_.explicit_pad) {
      ConvPadParams p{x_, padded_.data(), s_.n, s_.c, s_.h, s_.w, s_.xh, s_.xw,
                      s_.pre_top, s_.pre_left, s_.nhwc ? 1 : 0, int(elem_)};
      CPPNN_CUDA_CHECK(launch_conv_pad_input(p, grid(s_.n * s_.c * s_.xh * s_.xw), stream));
      x = padded_.data();
    }
    if (reorder_filter_)
      CPPNN_CUDA_CHECK(launch_conv_filter_reorder(
          reorder_, grid(s_.fa * s_.fb * s_.kh * s_.kw), stream));
    float one = 1.0f, zero = 0.0f;
    if (s_.transposed) {
      void* dx = s_.crop ? uncropped_.data() : y_;
      CPPNN_CUDNN_CHECK(cudnnConvolutionBackwardData(
          handle(), &one, w_desc_.get(), w_, x_desc_.get(), x, conv_desc_.get(),
          cudnnConvolutionBwdDataAlgo_t(c.algo), ws.data(), ws.bytes(), &zero, y_desc_.get(), dx));
      if (s_.crop) {
        // The output at (i, j) is the whole one's (i + pad_top, j + pad_left), zero past it.
        ConvPadParams p{dx, y_, s_.n, s_.k, s_.yh, s_.yw, s_.oh, s_.ow,
                        -s_.pad_top, -s_.pad_left, s_.nhwc ? 1 : 0, int(elem_)};
        CPPNN_CUDA_CHECK(launch_conv_pad_input(p, grid(s_.n * s_.k * s_.oh * s_.ow), stream));
      }
    } else if (c.fused) {
      // z is the residual (alpha2 = 1; it may be the output's own bytes, read at the same
      // element before it is written), or the output itself with alpha2 = 0.
      const void* z = residual_ ? residual_ : y_;
      CPPNN_CUDNN_CHECK(cudnnConvolutionBiasActivationForward(
          handle(), &one, x_desc_.get(), x, w_desc_.get(), w_, conv_desc_.get(),
          cudnnConvolutionFwdAlgo_t(c.algo), ws.data(), ws.bytes(), residual_ ? &one : &zero,
          y_desc_.get(), z, bias_desc_.get(), bias_, act_desc_.get(), y_desc_.get(), y_));
    } else {
      // y = conv + beta * y: the residual is in y already when the memory plan gave it the
      // output's bytes, else it is copied there first.
      if (residual_ && residual_ != y_)
        CPPNN_CUDA_CHECK(cudaMemcpyAsync(y_, residual_, y_bytes_, cudaMemcpyDeviceToDevice, stream));
      float beta = residual_ ? 1.0f : 0.0f;
      CPPNN_CUDNN_CHECK(cudnnConvolutionForward(
          handle(), &one, x_desc_.get(), x, w_desc_.get(), w_, conv_desc_.get(),
          cudnnConvolutionFwdAlgo_t(c.algo), ws.data(), ws.bytes(), &beta, y_desc_.get(), y_));
    }
    if (needs_epilogue(c)) {
      int64_t total = s_.n * s_.k * s_.oh * s_.ow;
      ConvEpilogueParams p{y_,        bias_,     total, s_.k, s_.oh * s_.ow, s_.nhwc ? 1 : 0,
                           s_.half ? 1 : s_.bf16 ? 2 : 0, act_, lo_,   hi_,  alpha_};
      CPPNN_CUDA_CHECK(launch_conv_epilogue(p, grid(total), stream));
    }
  }

  // One run of a choice, waited for: false when cuDNN or a launch refuses it.
  bool try_run(const Choice& c, const DeviceBuffer& ws) {
    return run_once(build_stream_, [&](cudaStream_t st) { enqueue(st, c, ws); });
  }

  // The mean GPU time of a choice as the plan runs it; nullopt when it fails.
  std::optional<float> time_choice(const Choice& c, const DeviceBuffer& ws) {
    return time_enqueue(build_stream_, [&](cudaStream_t st) { enqueue(st, c, ws); });
  }

  // The heuristic's ranking, best first: algorithms cuDNN says work, whose math type this
  // data type allows, whose workspace fits.
  std::vector<int> ranked_algorithms() const {
    std::vector<int> out;
    auto allowed = [&](cudnnMathType_t m) {
      if (s_.half || s_.bf16) return true;
      if (m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return false;  // fp32 through fp16
      return device_->options.tf32 || m == CUDNN_DEFAULT_MATH || m == CUDNN_FMA_MATH;
    };
    auto consider = [&](int algo, cudnnStatus_t status, cudnnMathType_t m) {
      if (status != CUDNN_STATUS_SUCCESS || !allowed(m)) return;
      if (std::find(out.begin(), out.end(), algo) != out.end()) return;
      std::optional<size_t> ws = workspace_size(algo);
      if (ws && *ws <= kMaxWorkspace) out.push_back(algo);
    };
    if (s_.transposed) {
      int max = 0;
      CPPNN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle(), &max));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(size_t(std::max(max, 1)));
      int found = 0;
      CPPNN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
          handle(), w_desc_.get(), x_desc_.get(), conv_desc_.get(), y_desc_.get(), int(perf.size()),
          &found, perf.data()));
      for (int i = 0; i < found; ++i) consider(int(perf[size_t(i)].algo), perf[size_t(i)].status, perf[size_t(i)].mathType);
    } else {
      int max = 0;
      CPPNN_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(handle(), &max));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(size_t(std::max(max, 1)));
      int found = 0;
      CPPNN_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(
          handle(), x_desc_.get(), w_desc_.get(), conv_desc_.get(), y_desc_.get(), int(perf.size()),
          &found, perf.data()));
      for (int i = 0; i < found; ++i) consider(int(perf[size_t(i)].algo), perf[size_t(i)].status, perf[size_t(i)].mathType);
    }
    return out;
  }

  // The process-wide and runtime-cache key: everything that decides which algorithm wins.
  // `with_batch` false: the family's key (family_signature), for every batch size.
  std::string signature(bool with_batch = true) const {
    std::ostringstream k;
    k << "cudnn-conv/4 " << (s_.transposed ? "convTranspose2d" : "conv2d")
      << (s_.half ? " fp16" : s_.bf16 ? " bf16" : " fp32") << " math" << int(math_) << (s_.nhwc ? " nhwc" : " nchw")
      << " x";
    if (with_batch) k << s_.n;
    k << "," << s_.c << "," << s_.xh << "," << s_.xw << " w" << s_.fa << ","
      << s_.fb << "," << s_.kh << "," << s_.kw << " y" << s_.k << "," << s_.oh << "," << s_.ow
      << " p" << s_.cudnn_pad_h << "," << s_.cudnn_pad_w << " s" << s_.stride_h << ","
      << s_.stride_w << " d" << s_.dil_h << "," << s_.dil_w << " g" << s_.groups << " bias"
      << (bias_ ? 1 : 0) << " res" << (residual_ ? 1 : 0) << " act" << act_ << " sm"
      << device_->sm << " cudnn" << cudnnGetVersion();
    if (s_.crop) k << " crop" << s_.yh << "," << s_.yw;
    if (own_possible())  // ours in the running, and the margin it was given
      k << " own" << int(own_.kind()) << "x" << own_.variants() << "/1 margin" << own_kernel_margin(*device_);
    return k.str();
  }

  bool usable(const Choice& c) const {
    if (c.is_own()) return c.own < own_.variants();
    int count = s_.transposed ? int(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT)
                              : int(CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
    if (c.algo < 0 || c.algo >= count || (c.fused && !can_fuse(c.algo))) return false;
    std::optional<size_t> ws = workspace_size(c.algo);
    return ws && *ws <= kMaxWorkspace;
  }

  void adopt(const Choice& c, const std::string& source) {
    BuildPhase t("conv: workspace");
    choice_ = c;
    source_ = source;
    workspace_ = c.is_own() ? DeviceBuffer()
                       : DeviceBuffer(*workspace_size(c.algo), "the cuDNN workspace of " + node_name(node()));
  }

  // Our kernel's untimed variant, adopted if one run of it works.
  bool adopt_untimed_own(const char* source) {
    BuildPhase t("conv: check run");
    std::lock_guard<std::mutex> exclusive(device_->gpu_timing);
    Choice own = own_choice(own_.untimed_variant(*device_));
    if (!try_run(own, DeviceBuffer())) return false;
    adopt(own, source);
    return true;
  }

  void choose_algorithm(const Node& node) {
    bool no_timing = device_->options.cudnn_no_timing;
    bool new_shape = device_->untimed_choices;
    if (own_possible() && own_mode_ == OwnKernels::only && adopt_untimed_own("own kernels only")) return;
    std::string sig = signature();
    std::string family = family_signature(signature(/*with_batch=*/false));
    if (!no_timing) {
      bool from_cache = false, from_family = false;
      std::optional<Choice> known;
      {
        BuildPhase t("conv: cache lookup");
        if (auto text = recall_choice(sig, device_->sm, cudnn_version(), &from_cache)) known = parse_choice(*text, own_);
        // A run-time shape: what was chosen for the same convolution at another batch.
        if (!known && new_shape)
          if (auto text = recall_choice(family, device_->sm, cudnn_version(), &from_cache)) {
            known = parse_choice(*text, own_);
            from_family = true;
          }
        // (The warm start's time goes into usable(): cuDNN's first query loads the code of
        // each new kind of engine, 20-150 ms each on the H100, then 0.25-0.6 ms per distinct
        // problem; bench/results/cudnn_probe.txt. Skipping it and the check run below only
        // moved that time into the first compute. Our own kernels need neither.)
        if (known && !usable(*known)) known.reset();
      }
      if (known && !from_cache) {
        adopt(*known, from_family ? "chosen at another batch" : "chosen earlier");
        return;
      }
      if (known) {
        adopt(*known, from_family ? "chosen at another batch" : "runtime cache");
        bool ran = false;
        {
          BuildPhase t("conv: check run");
          std::lock_guard<std::mutex> exclusive(device_->gpu_timing);
          ran = try_run(choice_, workspace_);
        }
        if (ran) {
          remember_choice(from_family ? family : sig, device_->sm, cudnn_version(), choice_text(*known, own_),
                          /*persist=*/false);
          return;
        }
        workspace_ = DeviceBuffer();  // it does not run here after all: choose afresh
      }
    }
    // A run-time shape with nothing remembered: our kernel's untimed variant where it takes
    // the problem (no library to load), else the heuristic's first algorithm, untimed.
    if (new_shape && own_possible() && own_mode_ != OwnKernels::off && adopt_untimed_own("untimed: new shape"))
      return;
    no_timing = no_timing || new_shape;

    std::vector<int> ranked;
    {
      BuildPhase t("conv: heuristic");
      ranked = ranked_algorithms();
    }
    bool own_timed = own_possible() && !no_timing && own_mode_ == OwnKernels::timed;
    if (ranked.empty() && !own_timed)
      fail(ErrorKind::NotSupportedError, "cuDNN has no algorithm for " + node_name(node) +
                                             " within a " + mib(kMaxWorkspace) + " workspace");
    if (ranked.size() > size_t(no_timing ? 1 : kCandidates)) ranked.resize(no_timing ? 1 : kCandidates);
    size_t ws_max = 0;
    for (int a : ranked) ws_max = std::max(ws_max, *workspace_size(a));
    DeviceBuffer ws(ws_max, "the cuDNN workspace while timing " + node_name(node));

    std::optional<Choice> best, own_best;
    float best_ms = INFINITY, own_ms = INFINITY;
    {
      std::lock_guard<std::mutex> exclusive(device_->gpu_timing);
      BuildPhase timing("conv: timing");
      if (own_timed) {
        for (int v = 0; v < own_.variants(); ++v) {
          Choice own = own_choice(v);
          if (std::optional<float> ms = time_choice(own, ws); ms && *ms < own_ms) own_ms = *ms, own_best = own;
        }
      }
      for (int a : ranked) {
        for (bool fused : {true, false}) {
          if (fused && !can_fuse(a)) continue;
          Choice c{a, fused, -1};
          std::optional<float> ms;
          if (no_timing) {
            if (try_run(c, ws)) ms = 0.0f;
          } else {
            ms = time_choice(c, ws);
          }
          if (!ms) continue;  // cuDNN refused it: the unfused form is tried next
          // The fastest, strictly: timed by graph replay, this matched or beat the
          // heuristic's first choice on every model measured on the H100.
          if (*ms < best_ms) best_ms = *ms, best = c;
          break;  // the fused form ran: no need to time the unfused one
        }
        if (no_timing && best) break;
      }
    }
    // Ours unless cuDNN is faster by more than the margin (CPPNN_CUDA_OWN_MARGIN): a step on
    // our kernel spares the warm start cuDNN's loading.
    if (own_best && (!best || own_ms <= best_ms * (1.0 + own_kernel_margin(*device_)))) best = own_best;
    if (!best)
      fail(ErrorKind::NotSupportedError,
           "cuDNN ran none of its algorithms for " + node_name(node));
    ws = DeviceBuffer();
    adopt(*best, no_timing ? "heuristic" : "timed");
    if (!no_timing) {
      BuildPhase t("conv: cache store");
      remember_choice(sig, device_->sm, cudnn_version(), choice_text(*best, own_));
      remember_choice(family, device_->sm, cudnn_version(), choice_text(*best, own_));
    }
  }

  void describe_text(const GraphIR& g, const Node& node, const std::string& act) {
    std::ostringstream d;
    d << node_name(node) << " " << to_string(g.desc(node.inputs[0]).shape) << " "
      << (s_.nhwc ? "nhwc" : "nchw") << " k" << s_.kh << "x" << s_.kw << " s" << s_.stride_h;
    if (s_.stride_w != s_.stride_h) d << "x" << s_.stride_w;
    if (s_.dil_h != 1 || s_.dil_w != 1) d << " d" << s_.dil_h << "x" << s_.dil_w;
    if (choice_.is_own())
      d << " g" << s_.groups << ": " << own_.description(choice_.own) << " " << (s_.half ? "fp16" : "fp32")
        << " (" << source_ << ")";
    else
      d << " g" << s_.groups << ": cuDNN "
        << (s_.half ? "fp16" : s_.bf16 ? "bf16" : device_->options.tf32 ? "tf32" : "fp32") << " algo "
        << (s_.transposed ? bwd_algo_name(choice_.algo) : fwd_algo_name(choice_.algo)) << " ("
        << source_ << ")";
    std::string fused = std::string(bias_ ? "bias" : "") + (act.empty() ? "" : (bias_ ? "+" : "") + act);
    if (residual_)
      d << (choice_.is_own() ? ", residual fused" : choice_.fused ? ", residual fused (z)" : ", residual via beta");
    if (choice_.fused && !fused.empty()) d << ", " << fused << " fused";
    else if (needs_epilogue(choice_)) d << ", " << fused << " in epilogue kernel";
    if (s_.explicit_pad && !choice_.is_own()) d << ", input padded explicitly";
    if (s_.crop) d << ", output cropped from the whole transposed one";
    if (reorder_filter_) d << ", filter reordered per run";
    d << ", ws " << mib(workspace_.bytes());
    description_ = d.str();
  }

  std::shared_ptr<Device> device_;
  ConvGeometry s_;
  // This build worker's cuDNN handle, made on first use: a step that runs our own kernel
  // from a remembered choice never needs one.
  cudnnHandle_t handle() const {
    if (!handle_) {
      BuildPhase t("conv: cuDNN handle");
      handle_ = device_->cudnn_for_this_thread();
      if (!handle_) fail(ErrorKind::OperationError, "cuda plan: the device has no cuDNN handle");
    }
    return handle_;
  }
  mutable cudnnHandle_t handle_ = nullptr;
  cudaStream_t build_stream_ = nullptr;  // for the work done while building
  size_t elem_ = 4;
  const void* x_ = nullptr;
  void* y_ = nullptr;
  size_t y_bytes_ = 0;
  const void* w_ = nullptr;
  const void* bias_ = nullptr;
  const void* residual_ = nullptr;
  int act_ = kConvActNone;
  float lo_ = 0, hi_ = 0, alpha_ = 0;
  DeviceBuffer filter_, padded_, uncropped_, workspace_;
  OwnConv own_;  // which of our kernels takes the node, if one does
  OwnKernels own_mode_ = own_kernels(*device_);
  bool reorder_filter_ = false;
  ConvFilterParams reorder_{};
  TensorDesc x_desc_, y_desc_, bias_desc_;
  FilterDesc w_desc_;
  ConvDesc conv_desc_;
  ActivationDesc act_desc_;
  cudnnMathType_t math_ = CUDNN_FMA_MATH;
  Choice choice_;
  std::string source_;
  std::string description_;
};

}  // namespace

std::unique_ptr<Step> make_cudnn_conv_step(std::shared_ptr<Device> device, const GraphIR& g,
                                           const Node& node, const std::vector<Placement>& places) {
  return std::make_unique<CudnnConvStep>(std::move(device), g, node, places);
}

}  // namespace cppnn::detail::cuda
