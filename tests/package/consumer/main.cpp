// Builds y = relu(x * w) with the installed headers and library and checks the values, on
// the CPU (a context asked for no acceleration), so it runs on any machine.
#include <cppnn/cppnn.h>

#include <cstdio>
#include <vector>

int main() {
  using namespace cppnn;
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {1, 3});
  Operand w = b.constant(Tensor::from(DataType::float32, {3, 2}, std::vector<float>{1, -1, 2, -2, 3, -3}));
  Graph g = b.build({{"y", b.relu(b.matmul(x, w))}});
  ContextOptions options;
  options.accelerated = false;
  Context ctx = Context::create(options);
  NamedTensors out = ctx.compute(g, {{"x", Tensor::from(DataType::float32, {1, 3}, std::vector<float>{1, 2, 3})}});
  const float* y = out.at("y").data_as<float>();
  std::printf("cppnn consumer: %g %g\n", y[0], y[1]);
  return y[0] == 14.0f && y[1] == 0.0f ? 0 : 1;
}
