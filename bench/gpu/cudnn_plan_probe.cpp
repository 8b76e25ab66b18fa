// cudnn_plan_probe.cpp: can cuDNN 9's backend (graph) C API let a second process start
// convolutions faster than the legacy API (3-4.5 ms host time per distinct conv on first use)?
//
// clang-format off
// Build (needs no GPU):
//   g++ -std=c++20 -O2 -Wall -Wextra bench/gpu/cudnn_plan_probe.cpp -I/usr/local/cuda/include -L/usr/local/cuda/lib64 -lcudnn -lcudart -o /tmp/probe
// On the GPU machine the system cuDNN is 9.14; 9.19 is PyTorch's copy, so build and run there with
//   d=$(bash carry/cuda-src/tests/gpu/find_cudnn.sh); export LD_LIBRARY_PATH=$d:/usr/local/cuda/lib64
//   g++ -std=c++20 -O2 -Wall -Wextra bench/gpu/cudnn_plan_probe.cpp -Icarry/cudnn/include -I/usr/local/cuda/include -L$d -l:libcudnn.so.9 -L/usr/local/cuda/lib64 -lcudart -o /tmp/probe
// Run on the GPU machine, each line a fresh process (same for fp32):
//   /tmp/probe list                             # the deduplicated ResNet-50 problems
//   /tmp/probe save /tmp/plans_fp16.txt fp16    # heuristics + plan finalize, writes plan JSONs
//   /tmp/probe load /tmp/plans_fp16.txt fp16    # deserialize + execute, rebuild, check vs legacy
//   /tmp/probe legacy fp16                      # legacy cudnnConvolutionForward, for comparison
// fp32 = float NCHW data, fp16 = half NHWC data; compute type float in both. Default fp32.
//
// Plan file: a header line "cudnn_plan_probe <fp32|fp16>\n", then per problem a text line
//   "<problem#> <engine global index> <nknobs> {<knob type> <knob value>}* <json bytes>\n"
// followed by exactly <json bytes> bytes of plan JSON and a '\n'. The JSON is kept byte for
// byte as cuDNN returned it (length-prefixed, so a trailing NUL or a newline survives).
// clang-format on
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using Clock = std::chrono::steady_clock;
static double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
template <class F>
static double timed(F&& f) {
  const auto t0 = Clock::now();
  f();
  return ms_since(t0);
}

// ---- error checks: print the failing call and cuDNN's message, throw to skip the problem ----
struct Fail {};
static bool ok(cudnnStatus_t s, const char* what) {
  if (s == CUDNN_STATUS_SUCCESS) return true;
  char msg[2048] = {0};
  cudnnGetLastErrorString(msg, sizeof msg);
  std::printf("    FAIL %s\n      -> %s | %s\n", what, cudnnGetErrorString(s), msg);
  return false;
}
#define CK(call)                          \
  do {                                    \
    if (!ok((call), #call)) throw Fail{}; \
  } while (0)
#define CU(call)                                                                \
  do {                                                                          \
    cudaError_t e_ = (call);                                                    \
    if (e_ != cudaSuccess) {                                                    \
      std::printf("    FAIL %s\n      -> %s\n", #call, cudaGetErrorString(e_)); \
      throw Fail{};                                                             \
    }                                                                           \
  } while (0)
#define SET(d, attr, type, n, p) CK(cudnnBackendSetAttribute(d, attr, type, n, p))
#define GET(d, attr, type, n, cnt, p) CK(cudnnBackendGetAttribute(d, attr, type, n, cnt, p))

// CUDNN_ATTR_*_HANDLE are marked deprecated in the 9.19 headers (an op graph needs no handle
// since 9.8), but cudnn-frontend's plan loadFromJson still binds a deserialized plan to a handle
// this way, so we do the same; the pragma only silences the deprecation warning.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static const cudnnBackendAttributeName_t kGraphHandle = CUDNN_ATTR_OPERATIONGRAPH_HANDLE;
static const cudnnBackendAttributeName_t kPlanHandle = CUDNN_ATTR_EXECUTION_PLAN_HANDLE;
#pragma GCC diagnostic pop

// Owns one backend descriptor (destroyed on scope exit, also when a check throws).
struct BD {
  cudnnBackendDescriptor_t d = nullptr;
  explicit BD(cudnnBackendDescriptorType_t t) { CK(cudnnBackendCreateDescriptor(t, &d)); }
  ~BD() {
    if (d) cudnnBackendDestroyDescriptor(d);
  }
  BD(const BD&) = delete;
  BD& operator=(const BD&) = delete;
  BD(BD&& o) noexcept : d(o.d) { o.d = nullptr; }
};

// ---- the problems: distinct conv2d forwards of ResNet-50, batch 1, 224x224 ----
struct Prob {
  int c, k, h, r, stride, pad;  // square h x h input, square r x r filter
  int out() const { return (h + 2 * pad - r) / stride + 1; }
  bool operator==(const Prob&) const = default;
};
static std::vector<Prob> resnet50_problems() {
  std::vector<Prob> v;
  auto add = [&](int c, int k, int h, int r, int s) {
    const Prob p{c, k, h, r, s, r / 2};
    if (std::find(v.begin(), v.end(), p) == v.end()) v.push_back(p);
  };
  add(3, 64, 224, 7, 2);  // stem 7x7 s2 p3
  int in_c = 64, h = 56;  // after the stem and the 3x3 s2 max-pool
  const int mids[4] = {64, 128, 256, 512}, blocks[4] = {3, 4, 6, 3};
  for (int st = 0; st < 4; ++st) {
    for (int b = 0; b < blocks[st]; ++b) {
      const int mid = mids[st], out = 4 * mid, s = (b == 0 && st > 0) ? 2 : 1;  // stride on the 3x3
      add(in_c, mid, h, 1, 1);
      add(mid, mid, h, 3, s);
      add(mid, out, h / s, 1, 1);
      if (b == 0) add(in_c, out, h, 1, s);  // downsample 1x1
      in_c = out;
      h /= s;
    }
  }
  return v;
}
static void print_prob(size_t i, const Prob& p) {
  std::printf("[%2zu] C%4d K%4d in %3dx%-3d f %dx%d s%d p%d -> %dx%d\n", i, p.c, p.k, p.h, p.h, p.r,
              p.r, p.stride, p.pad, p.out(), p.out());
}

// ---- device buffers ----
// Random inputs on a 1/64 grid in [-1, 1]: exact in half and TF32, and products and fp32 sums
// are (practically) exact, so backend and legacy outputs should agree up to the output's
// rounding and a layout or plan mistake shows up as a large difference. (So the check cannot
// reveal TF32 use; the printed tensor-core note does.) Same seed per problem in every mode.
static void* upload_random(size_t n, bool fp16, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-64, 64);
  std::vector<float> f(n);
  std::vector<__half> hb(n);
  for (size_t i = 0; i < n; ++i) hb[i] = __float2half(f[i] = float(dist(rng)) / 64.0f);
  void* p = nullptr;
  CU(cudaMalloc(&p, n * (fp16 ? 2 : 4)));
  CU(cudaMemcpy(p, fp16 ? (void*)hb.data() : (void*)f.data(), n * (fp16 ? 2 : 4),
                cudaMemcpyHostToDevice));
  return p;
}
static std::vector<float> download(const void* d, size_t n, bool fp16) {
  std::vector<float> f(n);
  std::vector<__half> hb(n);
  CU(cudaMemcpy(fp16 ? (void*)hb.data() : (void*)f.data(), d, n * (fp16 ? 2 : 4),
                cudaMemcpyDeviceToHost));
  for (size_t i = 0; fp16 && i < n; ++i) f[i] = __half2float(hb[i]);
  return f;
}
struct Bufs {
  void *x = nullptr, *w = nullptr, *y = nullptr, *yref = nullptr;
  size_t ny = 0;
  Bufs(const Prob& p, bool fp16, unsigned seed) : ny(size_t(p.k) * p.out() * p.out()) {
    x = upload_random(size_t(p.c) * p.h * p.h, fp16, seed);
    w = upload_random(size_t(p.k) * p.c * p.r * p.r, fp16, seed + 1000);
    CU(cudaMalloc(&y, ny * (fp16 ? 2 : 4)));
    CU(cudaMalloc(&yref, ny * (fp16 ? 2 : 4)));
  }
  ~Bufs() {
    (void)cudaFree(x);
    (void)cudaFree(w);
    (void)cudaFree(y);
    (void)cudaFree(yref);
  }
};
// One growing workspace; always called outside the timed regions so cudaMalloc is not counted.
static void* ws_get(size_t bytes) {
  static void* buf = nullptr;
  static size_t cap = 0;
  bytes = std::max<size_t>(bytes, 256);  // never hand cuDNN a null workspace pointer
  if (bytes <= cap) return buf;
  (void)cudaFree(buf);
  buf = nullptr, cap = 0;
  CU(cudaMalloc(&buf, bytes));
  cap = bytes;
  return buf;
}

// ---- backend API: tensors, conv op, op graph ----
enum : int64_t { kUidX = 1, kUidW = 2, kUidY = 3 };

// dims are always [n, c, h, w] (filters: [k, c, r, s]); the strides choose NCHW or NHWC memory.
static void make_tensor(cudnnBackendDescriptor_t t, int64_t uid, cudnnDataType_t dt,
                        std::array<int64_t, 4> dim, bool nhwc) {
  const int64_t c = dim[1], h = dim[2], w = dim[3], align = 16;
  const auto str = nhwc ? std::array<int64_t, 4>{h * w * c, 1, w * c, c}
                        : std::array<int64_t, 4>{c * h * w, h * w, w, 1};
  SET(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt);
  SET(t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dim.data());
  SET(t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, str.data());
  SET(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
  SET(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align);
  CK(cudnnBackendFinalize(t));
}

// Everything the op graph refers to, kept alive together.
struct OpGraph {
  BD x{CUDNN_BACKEND_TENSOR_DESCRIPTOR}, w{CUDNN_BACKEND_TENSOR_DESCRIPTOR},
      y{CUDNN_BACKEND_TENSOR_DESCRIPTOR}, conv{CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR},
      op{CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR},
      graph{CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR};
};
static std::unique_ptr<OpGraph> build_graph(const Prob& p, bool fp16, cudnnHandle_t h) {
  auto gp = std::make_unique<OpGraph>();
  OpGraph& g = *gp;
  const cudnnDataType_t dt = fp16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT, comp = CUDNN_DATA_FLOAT;
  const int64_t q = p.out();
  make_tensor(g.x.d, kUidX, dt, {1, p.c, p.h, p.h}, fp16);
  make_tensor(g.w.d, kUidW, dt, {p.k, p.c, p.r, p.r}, fp16);
  make_tensor(g.y.d, kUidY, dt, {1, p.k, q, q}, fp16);

  const int64_t nsp = 2, pad[2] = {p.pad, p.pad}, str[2] = {p.stride, p.stride}, dil[2] = {1, 1};
  const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  SET(g.conv.d, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &nsp);
  SET(g.conv.d, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp);
  SET(g.conv.d, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode);
  SET(g.conv.d, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pad);
  SET(g.conv.d, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, pad);
  SET(g.conv.d, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, str);
  SET(g.conv.d, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dil);
  CK(cudnnBackendFinalize(g.conv.d));

  const float alpha = 1.0f, beta = 0.0f;
  const auto D = CUDNN_TYPE_BACKEND_DESCRIPTOR;
  SET(g.op.d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, D, 1, &g.x.d);
  SET(g.op.d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, D, 1, &g.w.d);
  SET(g.op.d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, D, 1, &g.y.d);
  SET(g.op.d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, D, 1, &g.conv.d);
  SET(g.op.d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha);
  SET(g.op.d, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta);
  CK(cudnnBackendFinalize(g.op.d));

  SET(g.graph.d, CUDNN_ATTR_OPERATIONGRAPH_OPS, D, 1, &g.op.d);
  SET(g.graph.d, kGraphHandle, CUDNN_TYPE_HANDLE, 1, &h);
  CK(cudnnBackendFinalize(g.graph.d));
  return gp;
}

// What identifies a plan: engine global index + knob choices (+ its JSON once finalized).
struct Record {
  int prob = -1;
  int64_t engine = -1;
  bool tensor_core = false, valid = false;
  std::vector<std::pair<int64_t, int64_t>> knobs;  // (cudnnBackendKnobType_t, value)
  std::string json;
};
// Engine index, TENSOR_CORE numerical note and knob choices of an engine config.
static Record cfg_info(cudnnBackendDescriptor_t cfg) {
  Record r;
  try {
    int64_t cnt = 0;
    BD eng(CUDNN_BACKEND_ENGINE_DESCRIPTOR);  // attributes are read into pre-created descriptors
    GET(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cnt, &eng.d);
    GET(eng.d, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &cnt, &r.engine);
    cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
    GET(eng.d, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
        CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &cnt, notes);
    for (int64_t i = 0; i < std::min<int64_t>(cnt, CUDNN_NUMERICAL_NOTE_TYPE_COUNT); ++i)
      r.tensor_core |= notes[i] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE;
    std::vector<BD> kc;
    std::vector<cudnnBackendDescriptor_t> raw;
    for (int i = 0; i < CUDNN_KNOB_TYPE_COUNTS; ++i)
      raw.push_back(kc.emplace_back(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR).d);
    GET(cfg, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR,
        CUDNN_KNOB_TYPE_COUNTS, &cnt, raw.data());
    for (int64_t i = 0; i < std::min<int64_t>(cnt, CUDNN_KNOB_TYPE_COUNTS); ++i) {
      cudnnBackendKnobType_t type;
      int64_t value = 0, n = 0;
      GET(raw[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &n, &type);
      GET(raw[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &n, &value);
      r.knobs.emplace_back(int64_t(type), value);
    }
    r.valid = true;
  } catch (Fail&) {
  }
  return r;
}

// Variant pack (built per call, as a caller whose pointers change would) + execute + sync.
static void execute(cudnnHandle_t h, cudnnBackendDescriptor_t plan, const Bufs& b, void* ws) {
  BD vp(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
  const int64_t uids[3] = {kUidX, kUidW, kUidY};
  void* ptrs[3] = {b.x, b.w, b.y};
  SET(vp.d, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, 3, uids);
  SET(vp.d, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, 3, ptrs);
  SET(vp.d, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &ws);
  CK(cudnnBackendFinalize(vp.d));
  CK(cudnnBackendExecute(h, plan, vp.d));
  CU(cudaDeviceSynchronize());
}
// Workspace allocated untimed, then first and second execute timed into t[0], t[1].
static void execute_twice(cudnnHandle_t h, cudnnBackendDescriptor_t plan, const Bufs& b,
                          double* t) {
  int64_t wsb = 0, cnt = 0;
  GET(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &cnt, &wsb);
  void* ws = ws_get(size_t(wsb));
  for (int e = 0; e < 2; ++e) t[e] = timed([&] { execute(h, plan, b, ws); });
  std::printf("    workspace %lld B\n", (long long)wsb);
}

// ---- legacy API (what src/ uses today); all of it is marked deprecated in cuDNN 9 ----
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
struct LegacyDescs {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t c = nullptr;
  ~LegacyDescs() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (c) cudnnDestroyConvolutionDescriptor(c);
  }
};
// out = conv(b.x, b.w) with IMPLICIT_PRECOMP_GEMM, run twice; t gets {desc, wsize, exec1, exec2}.
// fp32 uses FMA math (no TF32, like src/ with tf32 off); fp16 uses tensor-op math.
static void legacy_conv(cudnnHandle_t h, const Prob& p, bool fp16, const Bufs& b, void* out,
                        double* t) {
  const cudnnDataType_t dt = fp16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
  const cudnnTensorFormat_t fmt = fp16 ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
  const cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  LegacyDescs d;
  size_t bytes = 0;
  t[0] = timed([&] {
    CK(cudnnCreateTensorDescriptor(&d.x));
    CK(cudnnSetTensor4dDescriptor(d.x, fmt, dt, 1, p.c, p.h, p.h));
    CK(cudnnCreateTensorDescriptor(&d.y));
    CK(cudnnSetTensor4dDescriptor(d.y, fmt, dt, 1, p.k, p.out(), p.out()));
    CK(cudnnCreateFilterDescriptor(&d.w));
    CK(cudnnSetFilter4dDescriptor(d.w, dt, fmt, p.k, p.c, p.r, p.r));
    CK(cudnnCreateConvolutionDescriptor(&d.c));
    CK(cudnnSetConvolution2dDescriptor(d.c, p.pad, p.pad, p.stride, p.stride, 1, 1,
                                       CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CK(cudnnSetConvolutionMathType(d.c, fp16 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
  });
  t[1] = timed(
      [&] { CK(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.c, d.y, algo, &bytes)); });
  void* ws = ws_get(bytes);
  const float alpha = 1.0f, beta = 0.0f;
  for (int e = 0; e < 2; ++e)
    t[2 + e] = timed([&] {
      CK(cudnnConvolutionForward(h, &alpha, d.x, b.x, d.w, b.w, d.c, algo, ws, bytes, &beta, d.y,
                                 out));
      CU(cudaDeviceSynchronize());
    });
}
#pragma GCC diagnostic pop

// ---- reporting and the per-problem loop ----
struct Table {
  std::vector<const char*> names;
  std::vector<double> sum;
  int ok = 0, fail = 0;
  explicit Table(std::vector<const char*> n) : names(std::move(n)), sum(names.size(), 0.0) {}
  void print(const char* title) const {
    std::printf("\n== %s: %d problems ok, %d failed; host ms summed over ok problems ==\n", title,
                ok, fail);
    double all = 0;
    for (size_t i = 0; i < names.size(); ++i)
      std::printf("  %-12s %10.3f\n", names[i], sum[i]), all += sum[i];
    std::printf("  %-12s %10.3f\n", "all stages", all);
  }
};
// body(i, t) fills the stage times t for problem i; a Fail skips to the next problem.
template <class F>
static void for_each_problem(const std::vector<Prob>& probs, Table& tab, F&& body) {
  for (size_t i = 0; i < probs.size(); ++i) {
    print_prob(i, probs[i]);
    std::vector<double> t(tab.names.size(), 0.0);
    try {
      body(i, t.data());
    } catch (Fail&) {
      ++tab.fail;
      std::printf("    -> skipped\n");
      continue;
    }
    std::printf("    ms:");
    for (size_t s = 0; s < t.size(); ++s)
      std::printf(" %s %.3f", tab.names[s], t[s]), tab.sum[s] += t[s];
    std::printf("\n");
    ++tab.ok;
  }
}

// cudaFree(0) (context creation) and cudnnCreate are timed apart from everything else.
// PROBE_PRELOAD=before: dlopen cuDNN's sub-libraries (from beside libcudnn.so) before the
// CUDA context is made; =concurrent: on a thread while it is made. Prints each dlopen's ms.
static void preload_cudnn() {
  Dl_info info{};
  std::string dir;
  if (dladdr(reinterpret_cast<void*>(&cudnnGetVersion), &info) && info.dli_fname) {
    dir = info.dli_fname;
    dir = dir.substr(0, dir.rfind('/') + 1);
  }
  for (const char* sub : {"graph", "ops", "cnn", "heuristic", "engines_runtime_compiled",
                          "engines_precompiled"}) {
    const std::string name = dir + "libcudnn_" + sub + ".so.9";
    void* hnd = nullptr;
    const double t = timed([&] { hnd = dlopen(name.c_str(), RTLD_LAZY | RTLD_LOCAL); });
    std::printf("preload: %-40s %8.3f ms%s\n", sub, t, hnd ? "" : " (FAILED)");
  }
}

static cudnnHandle_t startup(const char* what, bool fp16) {
  cudnnHandle_t h = nullptr;
  const char* pre = std::getenv("PROBE_PRELOAD");
  const std::string mode = pre ? pre : "";
  std::thread loader;
  if (mode == "before") std::printf("preload before context: %.3f ms\n", timed(preload_cudnn));
  if (mode == "concurrent") loader = std::thread([] { std::printf("preload thread: %.3f ms\n", timed(preload_cudnn)); });
  const double t_ctx = timed([] { CU(cudaFree(0)); });
  if (loader.joinable()) {
    const double t_join = timed([&] { loader.join(); });
    std::printf("startup: waited %.3f ms for the preload after the context\n", t_join);
  }
  const double t_create = timed([&] { CK(cudnnCreate(&h)); });
  cudaDeviceProp prop{};
  CU(cudaGetDeviceProperties(&prop, 0));
  std::printf("probe %s %s | %s | cuDNN runtime %zu, headers %d\n", what, fp16 ? "fp16" : "fp32",
              prop.name, cudnnGetVersion(), CUDNN_VERSION);
  std::printf("startup: cudaFree(0) %.3f ms, cudnnCreate %.3f ms\n", t_ctx, t_create);
  return h;
}

static int run_save(const char* file, bool fp16) {
  cudnnHandle_t h = startup("save", fp16);
  const auto probs = resnet50_problems();
  std::ofstream out(file, std::ios::binary);
  if (!out) return std::printf("cannot write %s\n", file), 1;
  out << "cudnn_plan_probe " << (fp16 ? "fp16" : "fp32") << "\n";
  Table tab({"graph", "heur", "plan", "json", "exec1", "exec2"});
  for_each_problem(probs, tab, [&](size_t i, double* t) {
    const Bufs b(probs[i], fp16, unsigned(i));
    std::unique_ptr<OpGraph> g;
    t[0] = timed([&] { g = build_graph(probs[i], fp16, h); });

    // Heuristics mode A; all results (fp32 may need to look past the TF32 ones), read into
    // pre-created ENGINECFG descriptors.
    std::optional<BD> heur;
    std::vector<BD> cfgs;
    std::vector<cudnnBackendDescriptor_t> raw;
    int64_t total = 0, n = 0;
    t[1] = timed([&] {
      const cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
      heur.emplace(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
      SET(heur->d, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
          &g->graph.d);
      SET(heur->d, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode);
      CK(cudnnBackendFinalize(heur->d));
      GET(heur->d, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &total,
          nullptr);
      const int64_t want = total;
      for (int64_t j = 0; j < want; ++j)
        raw.push_back(cfgs.emplace_back(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR).d);
      if (want > 0)
        GET(heur->d, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, want, &n,
            raw.data());
      n = std::min(n, want);
    });

    // Plan: the first config that finalizes. fp32 tries configs without the TENSOR_CORE note
    // (no TF32) first, then the tensor-core ones; at most 8 attempts. Only plan builds are timed.
    std::vector<Record> info;
    for (int64_t j = 0; j < n; ++j) info.push_back(cfg_info(raw[j]));
    std::unique_ptr<BD> plan;
    Record rec;
    int64_t chosen = -1, attempts = 0;
    for (int pass = 0; pass < 2 && !plan; ++pass)
      for (int64_t j = 0; j < n && !plan && attempts < 8; ++j) {
        if (!info[j].valid || (!fp16 && info[j].tensor_core) != (pass == 1)) continue;
        ++attempts;
        std::unique_ptr<BD> cand;
        bool good = false;
        t[2] += timed([&] {
          cand = std::make_unique<BD>(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
          SET(cand->d, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
              &raw[j]);
          good = ok(cudnnBackendFinalize(cand->d), "cudnnBackendFinalize(execution plan)");
        });
        if (good)
          plan = std::move(cand), rec = info[j], chosen = j;
        else
          std::printf("    config %lld (engine %lld) did not finalize, skipped\n", (long long)j,
                      (long long)info[j].engine);
      }
    if (!plan) {
      std::printf("    no usable engine config (%lld from heuristics)\n", (long long)total);
      throw Fail{};
    }
    std::printf("    config %lld of %lld: engine %lld, tensor-core note %s, %zu knobs\n",
                (long long)chosen, (long long)total, (long long)rec.engine,
                rec.tensor_core ? "YES" : "no", rec.knobs.size());

    t[3] = timed([&] {  // JSON: size first (null buffer), then the chars
      int64_t len = 0;
      GET(plan->d, CUDNN_ATTR_EXECUTION_PLAN_JSON_REPRESENTATION, CUDNN_TYPE_CHAR, 0, &len,
          nullptr);
      rec.json.assign(size_t(len), '\0');
      GET(plan->d, CUDNN_ATTR_EXECUTION_PLAN_JSON_REPRESENTATION, CUDNN_TYPE_CHAR, len, &len,
          rec.json.data());
      rec.json.resize(size_t(len));
    });
    execute_twice(h, plan->d, b, t + 4);

    out << i << ' ' << rec.engine << ' ' << rec.knobs.size();
    for (auto& [kt, kv] : rec.knobs) out << ' ' << kt << ' ' << kv;
    out << ' ' << rec.json.size() << '\n';
    out.write(rec.json.data(), std::streamsize(rec.json.size())) << '\n';
    std::printf("    json %zu B\n", rec.json.size());
  });
  tab.print(fp16 ? "save fp16 (backend API, first use in this process)"
                 : "save fp32 (backend API, first use in this process)");
  if (!out) std::printf("WARNING: writing %s failed\n", file);
  cudnnDestroy(h);
  return 0;
}

static std::vector<Record> read_plans(const char* file, bool fp16, size_t nprob) {
  std::vector<Record> v(nprob);  // indexed by problem; .valid where the file has a plan
  std::ifstream in(file, std::ios::binary);
  std::string header;
  std::getline(in, header);
  if (header != std::string("cudnn_plan_probe ") + (fp16 ? "fp16" : "fp32")) {
    std::printf("%s: header '%s' does not match the mode\n", file, header.c_str());
    return v;
  }
  Record r;
  size_t nk = 0, len = 0;
  while (in >> r.prob >> r.engine >> nk) {
    r.knobs.assign(nk, {0, 0});
    for (auto& [kt, kv] : r.knobs) in >> kt >> kv;
    in >> len;
    in.get();  // the '\n' ending the text line
    r.json.assign(len, '\0');
    in.read(r.json.data(), std::streamsize(len));
    in.get();  // the '\n' after the JSON bytes
    if (!in || r.prob < 0 || size_t(r.prob) >= nprob) break;
    r.valid = true;
    v[size_t(r.prob)] = r;
  }
  return v;
}

// Same engine + knobs on a freshly built op graph: skips heuristics but not the plan build.
static std::unique_ptr<BD> rebuild_plan(cudnnBackendDescriptor_t graph, const Record& rec) {
  const auto D = CUDNN_TYPE_BACKEND_DESCRIPTOR;
  BD eng(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
  SET(eng.d, CUDNN_ATTR_ENGINE_OPERATION_GRAPH, D, 1, &graph);
  SET(eng.d, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &rec.engine);
  CK(cudnnBackendFinalize(eng.d));
  std::vector<BD> knobs;
  std::vector<cudnnBackendDescriptor_t> raw;
  for (auto [kt, kv] : rec.knobs) {
    BD& k = knobs.emplace_back(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR);
    const auto type = cudnnBackendKnobType_t(kt);
    SET(k.d, CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &type);
    SET(k.d, CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &kv);
    CK(cudnnBackendFinalize(k.d));
    raw.push_back(k.d);
  }
  BD cfg(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
  SET(cfg.d, CUDNN_ATTR_ENGINECFG_ENGINE, D, 1, &eng.d);
  if (!raw.empty())
    SET(cfg.d, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, D, int64_t(raw.size()), raw.data());
  CK(cudnnBackendFinalize(cfg.d));
  auto plan = std::make_unique<BD>(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
  SET(plan->d, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, D, 1, &cfg.d);
  CK(cudnnBackendFinalize(plan->d));
  return plan;
}

static int run_load(const char* file, bool fp16) {
  cudnnHandle_t h = startup("load", fp16);
  const auto probs = resnet50_problems();
  const auto recs = read_plans(file, fp16, probs.size());
  std::vector<std::unique_ptr<Bufs>> bufs(probs.size());

  // 1) The measurement: deserialize + finalize, then first and second execute. Nothing else
  //    has used cuDNN kernels in this process yet.
  Table tab({"deser+fin", "exec1", "exec2"});
  for_each_problem(probs, tab, [&](size_t i, double* t) {
    if (!recs[i].valid) {
      std::printf("    no plan for this problem in %s\n", file);
      throw Fail{};
    }
    auto b = std::make_unique<Bufs>(probs[i], fp16, unsigned(i));  // same inputs as in save
    std::optional<BD> plan;
    t[0] = timed([&] {  // same order as cudnn-frontend's loadFromJson: JSON, handle, finalize
      plan.emplace(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
      SET(plan->d, CUDNN_ATTR_EXECUTION_PLAN_JSON_REPRESENTATION, CUDNN_TYPE_CHAR,
          int64_t(recs[i].json.size()), recs[i].json.data());
      SET(plan->d, kPlanHandle, CUDNN_TYPE_HANDLE, 1, &h);
      CK(cudnnBackendFinalize(plan->d));
    });
    execute_twice(h, plan->d, *b, t + 1);
    bufs[i] = std::move(b);
  });

  // 2) Comparison: rebuild each plan from engine index + knobs on a new op graph (no
  //    heuristics). Runs after step 1, so the kernels are already loaded in this process.
  std::printf("\n-- rebuild from engine global index + knob choices --\n");
  Table tab2({"graph", "rebuild"});
  for_each_problem(probs, tab2, [&](size_t i, double* t) {
    if (!recs[i].valid) throw Fail{};
    std::unique_ptr<OpGraph> g;  // both kept past the timers: destruction is not counted
    std::unique_ptr<BD> plan;
    t[0] = timed([&] { g = build_graph(probs[i], fp16, h); });
    t[1] = timed([&] { plan = rebuild_plan(g->graph.d, recs[i]); });
  });

  // 3) Correctness: the deserialized plan's output vs the legacy forward on the same inputs.
  std::printf("\n-- check: backend plan output vs legacy cudnnConvolutionForward --\n");
  int bad = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (!bufs[i]) continue;
    try {
      double tl[4];
      legacy_conv(h, probs[i], fp16, *bufs[i], bufs[i]->yref, tl);
      const auto y = download(bufs[i]->y, bufs[i]->ny, fp16),
                 ref = download(bufs[i]->yref, bufs[i]->ny, fp16);
      double md = 0, mr = 0;
      bool finite = true;  // std::max would silently skip NaNs
      for (size_t j = 0; j < y.size(); ++j) {
        const double d = std::fabs(double(y[j]) - double(ref[j]));
        finite = finite && std::isfinite(d);
        md = std::max(md, d);
        mr = std::max(mr, double(std::fabs(ref[j])));
      }
      const double rel = md / std::max(mr, 1e-30);
      const bool good = finite && rel <= (fp16 ? 1e-3 : 1e-5);
      bad += !good;
      std::printf("[%2zu] max|diff| %.4g  max|ref| %.4g  rel %.3g  %s\n", i, md, mr, rel,
                  good ? "OK" : "MISMATCH");
    } catch (Fail&) {
      std::printf("[%2zu] check skipped (legacy path failed)\n", i);
    }
  }
  tab.print(fp16 ? "load fp16 (deserialized plans, first use in this process)"
                 : "load fp32 (deserialized plans, first use in this process)");
  tab2.print("rebuild from engine+knobs (after step 1: kernels already loaded)");
  std::printf("check: %d mismatches\n", bad);
  cudnnDestroy(h);
  return 0;
}

static int run_legacy(bool fp16) {
  cudnnHandle_t h = startup("legacy", fp16);
  const auto probs = resnet50_problems();
  Table tab({"desc", "wsize", "exec1", "exec2"});
  for_each_problem(probs, tab, [&](size_t i, double* t) {
    const Bufs b(probs[i], fp16, unsigned(i));
    legacy_conv(h, probs[i], fp16, b, b.y, t);
  });
  tab.print(fp16 ? "legacy fp16 (IMPLICIT_PRECOMP_GEMM, tensor-op math)"
                 : "legacy fp32 (IMPLICIT_PRECOMP_GEMM, FMA math)");
  cudnnDestroy(h);
  return 0;
}

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  auto fp16 = [&](int idx) { return argc > idx && std::string(argv[idx]) == "fp16"; };
  try {
    if (cmd == "list") {
      const auto probs = resnet50_problems();
      for (size_t i = 0; i < probs.size(); ++i) print_prob(i, probs[i]);
      return 0;
    }
    if (cmd == "save" && argc > 2) return run_save(argv[2], fp16(3));
    if (cmd == "load" && argc > 2) return run_load(argv[2], fp16(3));
    if (cmd == "legacy") return run_legacy(fp16(2));
  } catch (Fail&) {
    std::printf("fatal: startup failed\n");
    return 1;
  }
  std::printf(
      "usage: %s list | save FILE [fp32|fp16] | load FILE [fp32|fp16] | legacy [fp32|fp16]\n",
      argv[0]);
  return 2;
}
