// gatherElements and gatherND on the CUDA backend's movement kernels (kernels/movement.cu)
// against the CPU backend, byte for byte: every data type, every index type, ranks 1..4,
// negative indices and indices past both ends (clamped, as gather's). Each case asserts
// from the plan's report that the op ran on the GPU; a gatherND whose coordinates span more
// axes than the kernel takes must fall back and still match. (The rest of the movement
// family is in test_gpu_movement.cpp.)
#include <cstring>

#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;
using testing::random_tensor;

const DataType kAll[] = {DataType::float32, DataType::float16, DataType::int32, DataType::uint32,
                         DataType::int64,   DataType::uint64,  DataType::int8,  DataType::uint8};
const DataType kIndexTypes[] = {DataType::int32, DataType::uint32, DataType::int64};

uint32_t seed_counter = 4100;

bool is_unsigned(DataType t) {
  return t == DataType::uint32 || t == DataType::uint64 || t == DataType::uint8;
}

Tensor fresh(DataType t, const Dims& shape) {
  return is_unsigned(t) ? random_tensor(t, shape, 0, 200, ++seed_counter)
                        : random_tensor(t, shape, -100, 100, ++seed_counter);
}

// Whole index values in [-dim - 3, dim + 3] ([0, dim + 3] for uint32): in range, negative,
// and past both ends.
Tensor fresh_indices(DataType t, const Dims& shape, int64_t dim) {
  double lo = t == DataType::uint32 ? 0 : -double(dim) - 3;
  return random_tensor(t, shape, lo, double(dim) + 3, ++seed_counter);
}

std::string type_name(DataType t) { return std::string(to_string(t)); }

void expect_same(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.data_type(), want.data_type()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.byte_size(), want.byte_size()) << what;
  if (std::memcmp(got.data(), want.data(), got.byte_size()) == 0) return;
  size_t esize = element_size(got.data_type()), bad = 0;
  std::vector<double> g = got.to_doubles(), w = want.to_doubles();
  const uint8_t* gb = static_cast<const uint8_t*>(got.data());
  const uint8_t* wb = static_cast<const uint8_t*>(want.data());
  for (size_t i = 0; i < got.element_count(); ++i)
    if (std::memcmp(gb + i * esize, wb + i * esize, esize) != 0 && bad++ < 5)
      ADD_FAILURE() << what << " element " << i << ": got " << g[i] << ", want " << w[i];
  ADD_FAILURE() << what << ": " << bad << " of " << got.element_count() << " elements differ";
}

void expect_matches_cpu(const Graph& g, const NamedTensors& in, const std::string& what) {
  NamedTensors want = cpu_context().compute(g, in);
  NamedTensors got = cuda_context().compute(g, in);
  ASSERT_EQ(got.size(), want.size()) << what;
  for (const auto& [name, tensor] : want) expect_same(got.at(name), tensor, what + " " + name);
}

// "[gpu] gatherND" (resp. "[cpu] ...") begins the op's step line in the plan report.
// (Strings appended: g++ 12's -Wrestrict misfires on "[" + std::string.)
std::string step_tag(const char* where, const std::string& op) {
  std::string tag = "[";
  tag += where;
  tag += "] ";
  tag += op;
  return tag;
}

void expect_ran_on(const Graph& g, const std::string& op, const char* where,
                   const std::string& what) {
  std::string report = cuda_context().report(g);
  const char* other = std::string(where) == "gpu" ? "cpu" : "gpu";
  EXPECT_NE(report.find(step_tag(where, op)), std::string::npos) << what << "\n" << report;
  EXPECT_EQ(report.find(step_tag(other, op)), std::string::npos) << what << "\n" << report;
}

void check_gather_elements(DataType t, const Dims& shape, uint32_t axis, DataType it, int64_t n,
                           const Tensor* forced = nullptr) {
  Dims ishape = shape;
  ishape[axis] = n;
  std::string what = "gatherElements " + type_name(t) + " " + to_string(shape) + " axis " +
                     std::to_string(axis) + " indices " + type_name(it) + " " + to_string(ishape);
  SCOPED_TRACE(what);
  GraphBuilder b;
  GatherOptions o;
  o.axis = axis;
  Graph g =
      b.build({{"y", b.gather_elements(b.input("x", t, shape), b.input("i", it, ishape), o)}});
  Tensor idx = forced ? *forced : fresh_indices(it, ishape, shape[axis]);
  expect_matches_cpu(g, {{"x", fresh(t, shape)}, {"i", idx}}, what);
  expect_ran_on(g, "gatherElements", "gpu", what);
}

void check_gather_nd(DataType t, const Dims& shape, DataType it, const Dims& ishape,
                     const Tensor* forced = nullptr) {
  std::string what = "gatherND " + type_name(t) + " " + to_string(shape) + " indices " +
                     type_name(it) + " " + to_string(ishape);
  SCOPED_TRACE(what);
  GraphBuilder b;
  Graph g = b.build({{"y", b.gather_nd(b.input("x", t, shape), b.input("i", it, ishape))}});
  // One range for every coordinate: the largest indexed dimension's (smaller ones clamp).
  int64_t dim = 1;
  for (int64_t d = 0; d < ishape.back(); ++d) dim = std::max(dim, shape[size_t(d)]);
  Tensor idx = forced ? *forced : fresh_indices(it, ishape, dim);
  expect_matches_cpu(g, {{"x", fresh(t, shape)}, {"i", idx}}, what);
  expect_ran_on(g, "gatherND", "gpu", what);
}

TEST(GpuMovementGather, GatherElementsEveryTypeAxisAndRank) {
  REQUIRE_CUDA();
  for (DataType t : kAll)
    for (DataType it : kIndexTypes) {
      check_gather_elements(t, {9}, 0, it, 5);
      check_gather_elements(t, {4, 5}, 0, it, 3);
      check_gather_elements(t, {4, 5}, 1, it, 7);
      for (uint32_t axis = 0; axis < 3; ++axis) check_gather_elements(t, {3, 4, 5}, axis, it, 2);
      for (uint32_t axis = 0; axis < 4; ++axis) check_gather_elements(t, {2, 3, 4, 5}, axis, it, 4);
    }
}

TEST(GpuMovementGather, GatherElementsClampsIndices) {
  REQUIRE_CUDA();
  Tensor i32 =
      testing::tensor_from_doubles(DataType::int32, {2, 4}, {-1, -6, 100, -100, 5, -7, 6, 0});
  Tensor i64 = testing::tensor_from_doubles(DataType::int64, {6, 2},
                                            {1e12, -1e12, -4, 3, -5, 4, 0, -1, 2, 7, -8, 1});
  Tensor u32 =
      testing::tensor_from_doubles(DataType::uint32, {6, 1}, {4e9, 2147483648., 3, 0, 4, 5});
  for (DataType t : {DataType::float32, DataType::float16, DataType::int8, DataType::int64}) {
    check_gather_elements(t, {6, 4}, 0, DataType::int32, 2, &i32);
    check_gather_elements(t, {6, 4}, 1, DataType::int64, 2, &i64);
    check_gather_elements(t, {6, 4}, 1, DataType::uint32, 1, &u32);
  }
}

TEST(GpuMovementGather, GatherNDEveryTypeAndCoordinateSize) {
  REQUIRE_CUDA();
  for (DataType t : kAll)
    for (DataType it : kIndexTypes) {
      check_gather_nd(t, {9}, it, {4, 1});
      check_gather_nd(t, {9}, it, {1});
      check_gather_nd(t, {4, 5}, it, {3, 2});
      check_gather_nd(t, {4, 5}, it, {2, 3, 1});
      check_gather_nd(t, {3, 4, 5}, it, {2, 3});
      check_gather_nd(t, {3, 4, 5}, it, {5, 2});
      check_gather_nd(t, {2, 3, 4, 8}, it, {2, 2, 2, 4});  // whole elements only
      check_gather_nd(t, {2, 3, 4, 8}, it, {3, 3});        // slices of 8: widened copies
      check_gather_nd(t, {2, 3, 4, 6}, it, {2, 1});
    }
}

TEST(GpuMovementGather, GatherNDClampsIndices) {
  REQUIRE_CUDA();
  Tensor i32 =
      testing::tensor_from_doubles(DataType::int32, {4, 2}, {-1, -6, 100, -100, -5, 6, 4, -7});
  Tensor i64 = testing::tensor_from_doubles(DataType::int64, {3, 2}, {1e12, -1e12, -2, 0, 4, -6});
  Tensor u32 = testing::tensor_from_doubles(DataType::uint32, {2, 2}, {4e9, 2147483648., 2, 5});
  for (DataType t : {DataType::float32, DataType::float16, DataType::uint8, DataType::uint64}) {
    check_gather_nd(t, {5, 6}, DataType::int32, {4, 2}, &i32);
    check_gather_nd(t, {5, 6, 3}, DataType::int64, {3, 2}, &i64);
    check_gather_nd(t, {5, 6}, DataType::uint32, {2, 2}, &u32);
  }
}

TEST(GpuMovementGather, LargeTensors) {
  REQUIRE_CUDA();
  check_gather_elements(DataType::float32, {300, 257}, 0, DataType::int32, 500);
  check_gather_elements(DataType::float16, {64, 40, 33}, 1, DataType::int64, 70);
  check_gather_nd(DataType::float32, {1000, 64}, DataType::int32, {3000, 1});
  check_gather_nd(DataType::float16, {40, 50, 30}, DataType::int64, {60, 70, 2});
  check_gather_nd(DataType::int32, {30, 40, 50}, DataType::uint32, {20000, 3});
}

// BERT's dynamo export: a constant table gathered by token ids shaped [batch, seq, 1].
TEST(GpuMovementGather, GatherNDFromConstantTable) {
  REQUIRE_CUDA();
  for (DataType t : {DataType::float32, DataType::float16}) {
    SCOPED_TRACE(type_name(t));
    GraphBuilder b;
    Operand table = b.constant(fresh(t, {1000, 96}));
    Operand ids = b.input("ids", DataType::int64, {2, 16, 1});
    Graph g = b.build({{"y", b.gather_nd(table, ids)}});
    expect_matches_cpu(
        g, {{"ids", random_tensor(DataType::int64, {2, 16, 1}, -5, 1005, ++seed_counter)}},
        "embedding");
    expect_ran_on(g, "gatherND", "gpu", "embedding");
  }
}

// Coordinates over 9 axes are past the kernel's kMaxRank (8): the decision says no, the op
// runs on the CPU and the result is the same.
TEST(GpuMovementGather, GatherNDOverNineAxesFallsBackAndMatches) {
  REQUIRE_CUDA();
  Dims shape = {2, 2, 2, 2, 2, 2, 2, 2, 3};
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, shape);
  Operand idx = b.input("i", DataType::int32, {4, 9});
  Graph g = b.build({{"y", b.gather_nd(x, idx)}});
  expect_matches_cpu(
      g, {{"x", fresh(DataType::float32, shape)}, {"i", fresh_indices(DataType::int32, {4, 9}, 3)}},
      "9 coordinates");
  expect_ran_on(g, "gatherND", "cpu", "9 coordinates");
  EXPECT_NE(cuda_context().report(g).find("coordinates of 9 axes"), std::string::npos)
      << cuda_context().report(g);
}

}  // namespace
}  // namespace cppnn
