// AVX-VNNI kernels for the rows8 layout (Intel Core Ultra and other CPUs with the VEX
// vpdpbusd but no AVX-512): the AVX2 kernels' work with one vpdpbusd per 4 weights of 8
// rows instead of maddubs + madd, and up to 8 activation rows per sweep.
// Built with -mavxvnni -mavx2 -mfma -mf16c (CMakeLists.txt); called only through the
// avx_vnni table.
#include <immintrin.h>

#include "kernels/kernels_avxvnni.h"
#include "kernels/rows8_vnni.h"
#include "kernels/vnni_v256.h"

namespace qwen3::avxvnni {
namespace {

// The VEX (AVX-VNNI) vpdpbusd / vpdpwssd; VEX has no embedded broadcast.
struct DpVex {
  static __m256i dp(__m256i acc, __m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(acc, u, s);
  }
  static __m256i dpw(__m256i acc, __m256i a, __m256i b) {
    return _mm256_dpwssd_avx_epi32(acc, a, b);
  }
  static __m256i dpb(__m256i acc, __m256i u, const int8_t* p) {
    return dp(acc, u, vnni::bcast32(p));
  }
  static __m256i dpwb(__m256i acc, __m256i a, const void* p) {
    return dpw(acc, a, vnni::bcast32(p));
  }
};
using V256 = vnni::V256<DpVex>;

template <template <class> class K>
void groups(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, size_t xs, int nt,
            float* y, int64_t ldy) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv);
  for (int64_t g = 0; g < ng; ++g)
    vnni::sweep<K<V256>, V256>(n, w + g * gs, w + g * gs, x, xs, nt, y + 8 * g, ldy);
}

// This level's drivers, for vnni::rows8_kernel_of.
struct Drivers {
  template <template <class> class K>
  static constexpr detail::Rows8Fn groups = avxvnni::groups<K>;
  static constexpr detail::Rows8Fn q6k = avxvnni::groups<vnni::Q6K>;
};

}  // namespace

detail::Rows8Fn rows8_kernel(GgmlType t) {
  return vnni::rows8_kernel_of<Drivers>(t);
}

}  // namespace qwen3::avxvnni
