// Compiled with -mavx2 -mfma outside any level's namespace: tests/isa/check_baseline_isa.py
// must fail on it (ctest isa.baseline_check_fixture), or the check sees nothing.
#include <cstddef>

float cppnn_isa_fixture_dot(const float* a, const float* b, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void cppnn_isa_fixture_scale(float* a, float k, size_t n) {
  for (size_t i = 0; i < n; ++i) a[i] *= k;
}
