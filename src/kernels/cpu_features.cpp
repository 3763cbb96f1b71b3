#include "kernels/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace qwen3 {
namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  // GCC < 11 has no "f16c" name for __builtin_cpu_supports; F16C ships with every
  // AVX2 CPU we know of, and the cpuid bit (leaf 1 ecx bit 29) settles it.
  unsigned a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
  f.f16c = (c >> 29) & 1u;
#endif
  return f;
}

bool env_force_scalar() {
  const char* v = std::getenv("QWEN3_FORCE_SCALAR");
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

std::atomic<bool>& forced() {
  static std::atomic<bool> f{env_force_scalar()};
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

bool use_avx2() {
  const CpuFeatures& f = cpu_features();
  return f.avx2 && f.fma && f.f16c && !forced().load(std::memory_order_relaxed);
}

void set_force_scalar(bool force) {
  forced().store(force);
}
bool force_scalar() {
  return forced().load();
}

}  // namespace qwen3
