// AVX-VNNI kernels for the rows8 layout (Intel Core Ultra and other CPUs with the VEX
// vpdpbusd but no AVX-512): the AVX2 kernels' work with one vpdpbusd per 4 weights of 8
// rows instead of maddubs + madd, and up to 8 activation rows per sweep.
// Built with -mavxvnni -mavx2 -mfma -mf16c (CMakeLists.txt); called only through the
// avx_vnni table.
#include <immintrin.h>

#include "kernels/kernels_avxvnni.h"
#include "kernels/rows8_vnni.h"

namespace qwen3::avxvnni {
namespace {

inline __m128i load128(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}
inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// One group at 256 bits with the VEX (AVX-VNNI) vpdpbusd / vpdpwssd.
struct V256 {
  static constexpr int G = 1;
  using vi = __m256i;
  using vf = __m256;
  static vi load(const void* p0, const void*) { return load256(p0); }
  static vf f16(const uint16_t* p0, const uint16_t*) { return _mm256_cvtph_ps(load128(p0)); }
  static vi u8_32(const uint8_t* p0, const uint8_t*) {
    return _mm256_cvtepu8_epi32(
        _mm_loadl_epi64(static_cast<const __m128i*>(static_cast<const void*>(p0))));
  }
  static vi u8_16(const uint8_t* p0, const uint8_t*) { return _mm256_cvtepu8_epi16(load128(p0)); }
  static vi i8_16(const int8_t* p0, const int8_t*) { return _mm256_cvtepi8_epi16(load128(p0)); }
  static vi dp(vi acc, vi u, vi s) { return _mm256_dpbusd_avx_epi32(acc, u, s); }
  static vi dpw(vi acc, vi a, vi b) { return _mm256_dpwssd_avx_epi32(acc, a, b); }
  static vi bcast(const int8_t* p) {
    int32_t v;
    __builtin_memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
  static vi and_(vi a, vi b) { return _mm256_and_si256(a, b); }
  static vi or_(vi a, vi b) { return _mm256_or_si256(a, b); }
  static vi xor_(vi a, vi b) { return _mm256_xor_si256(a, b); }
  static vi srli16(vi a, int n) { return _mm256_srli_epi16(a, n); }
  static vi slli16(vi a, int n) { return _mm256_slli_epi16(a, n); }
  static vi slli32(vi a, int n) { return _mm256_slli_epi32(a, n); }
  static vi srai32(vi a, int n) { return _mm256_srai_epi32(a, n); }
  static vi add(vi a, vi b) { return _mm256_add_epi32(a, b); }
  static vi sub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
  static vi mullo(vi a, vi b) { return _mm256_mullo_epi32(a, b); }
  static vi set1_8(char c) { return _mm256_set1_epi8(c); }
  static vi set1_32(int v) { return _mm256_set1_epi32(v); }
  static vi zero() { return _mm256_setzero_si256(); }
  static vf zf() { return _mm256_setzero_ps(); }
  static vf set1f(float v) { return _mm256_set1_ps(v); }
  static vf mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
  static vf fmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
  static vf fnmadd(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
  static vf cvt(vi a) { return _mm256_cvtepi32_ps(a); }
  static vf loadf(const float* y) { return _mm256_loadu_ps(y); }
  static void store(float* y, vf v) { _mm256_storeu_ps(y, v); }
};

template <class V>
using Q4K = vnni::QK<V, BlockQ4_Kx8, false>;
template <class V>
using Q5K = vnni::QK<V, BlockQ5_Kx8, true>;

template <template <class> class K>
void groups(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, size_t xs, int nt,
            float* y, int64_t ldy) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv);
  for (int64_t g = 0; g < ng; ++g)
    vnni::sweep<K<V256>, V256>(n, w + g * gs, w + g * gs, x, xs, nt, y + 8 * g, ldy);
}

}  // namespace

detail::Rows8Fn rows8_kernel(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
      return groups<vnni::Q4_0>;
    case GgmlType::Q8_0:
      return groups<vnni::Q8_0>;
    case GgmlType::Q4_K:
      return groups<Q4K>;
    case GgmlType::Q5_K:
      return groups<Q5K>;
    case GgmlType::Q6_K:
      return groups<vnni::Q6K>;
    default:
      return nullptr;
  }
}

}  // namespace qwen3::avxvnni
