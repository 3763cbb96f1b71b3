// AVX-512 (F/BW/VL/DQ + VNNI) kernels for the rows8 layout: two groups of 8 rows per
// 512-bit vector, up to 8 activation rows per sweep (32 zmm registers hold 8 float
// accumulators, 8 int32 sums and the unpacked weights). An odd last group runs the same
// kernels at 256 bits (EVEX vpdpbusd), with identical per-row arithmetic.
// Built with the AVX-512 flags (CMakeLists.txt); called only through the avx512 table.
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on its own _mm512_undefined_*
// placeholders (a known false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include "kernels/kernels_avx512.h"
#include "kernels/rows8_vnni.h"
#include "kernels/vnni_v256.h"

namespace qwen3::avx512 {
namespace {

using vnni::load128;
using vnni::load256;

// The 4 bytes an embedded-broadcast operand reads (the asm's memory input).
struct Bytes4 {
  char b[4];
};

// Two rows8 groups: lanes 0-7 rows of group 0, lanes 8-15 rows of group 1.
struct V512 {
  static constexpr int G = 2;
  using vi = __m512i;
  using vf = __m512;
  static vi load(const void* p0, const void* p1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(load256(p0)), load256(p1), 1);
  }
  static vf f16(const uint16_t* p0, const uint16_t* p1) {
    return _mm512_cvtph_ps(
        _mm256_inserti128_si256(_mm256_castsi128_si256(load128(p0)), load128(p1), 1));
  }
  static vi u8_32(const uint8_t* p0, const uint8_t* p1) {
    return _mm512_cvtepu8_epi32(_mm_unpacklo_epi64(
        _mm_loadl_epi64(static_cast<const __m128i*>(static_cast<const void*>(p0))),
        _mm_loadl_epi64(static_cast<const __m128i*>(static_cast<const void*>(p1)))));
  }
  static vi u8_16(const uint8_t* p0, const uint8_t* p1) {
    return _mm512_cvtepu8_epi16(
        _mm256_inserti128_si256(_mm256_castsi128_si256(load128(p0)), load128(p1), 1));
  }
  static vi i8_16(const int8_t* p0, const int8_t* p1) {
    return _mm512_cvtepi8_epi16(
        _mm256_inserti128_si256(_mm256_castsi128_si256(load128(p0)), load128(p1), 1));
  }
  static vi dp(vi acc, vi u, vi s) { return _mm512_dpbusd_epi32(acc, u, s); }
  static vi dpw(vi acc, vi a, vi b) { return _mm512_dpwssd_epi32(acc, a, b); }
  // The same with the second operand the 4 bytes at p in every lane, as an embedded
  // broadcast (GCC does not fold a broadcast into these instructions by itself).
  static vi dpb(vi acc, vi u, const int8_t* p) {
    asm("vpdpbusd %2%{1to16%}, %1, %0"
        : "+v"(acc)
        : "v"(u), "m"(*reinterpret_cast<const Bytes4*>(p)));
    return acc;
  }
  static vi dpwb(vi acc, vi a, const void* p) {
    asm("vpdpwssd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(a), "m"(*static_cast<const Bytes4*>(p)));
    return acc;
  }
  static vi bcast(const int8_t* p) {
    int32_t v;
    __builtin_memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  static vi and_(vi a, vi b) { return _mm512_and_si512(a, b); }
  static vi or_(vi a, vi b) { return _mm512_or_si512(a, b); }
  static vi xor_(vi a, vi b) { return _mm512_xor_si512(a, b); }
  static vi srli16(vi a, int n) { return _mm512_srli_epi16(a, n); }
  static vi slli16(vi a, int n) { return _mm512_slli_epi16(a, n); }
  static vi slli32(vi a, int n) { return _mm512_slli_epi32(a, n); }
  static vi srli32(vi a, int n) { return _mm512_srli_epi32(a, n); }
  static vi srai32(vi a, int n) { return _mm512_srai_epi32(a, n); }
  static vi add(vi a, vi b) { return _mm512_add_epi32(a, b); }
  static vi sub(vi a, vi b) { return _mm512_sub_epi32(a, b); }
  static vi sub16(vi a, vi b) { return _mm512_sub_epi16(a, b); }
  static vi mullo(vi a, vi b) { return _mm512_mullo_epi32(a, b); }
  static vi set1_8(char c) { return _mm512_set1_epi8(c); }
  static vi set1_32(int v) { return _mm512_set1_epi32(v); }
  static vi zero() { return _mm512_setzero_si512(); }
  static vf zf() { return _mm512_setzero_ps(); }
  static vf set1f(float v) { return _mm512_set1_ps(v); }
  static vf mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
  static vf fmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
  static vf fnmadd(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
  static vf cvt(vi a) { return _mm512_cvtepi32_ps(a); }
  static vf loadf(const float* y) { return _mm512_loadu_ps(y); }
  static void store(float* y, vf v) { _mm512_storeu_ps(y, v); }
};

// One group at 256 bits with the EVEX (AVX512_VNNI + VL) vpdpbusd / vpdpwssd.
struct DpEvex {
  static __m256i dp(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }
  static __m256i dpw(__m256i acc, __m256i a, __m256i b) { return _mm256_dpwssd_epi32(acc, a, b); }
  static __m256i dpb(__m256i acc, __m256i u, const int8_t* p) {
    asm("vpdpbusd %2%{1to8%}, %1, %0"
        : "+v"(acc)
        : "v"(u), "m"(*reinterpret_cast<const Bytes4*>(p)));
    return acc;
  }
  static __m256i dpwb(__m256i acc, __m256i a, const void* p) {
    asm("vpdpwssd %2%{1to8%}, %1, %0" : "+v"(acc) : "v"(a), "m"(*static_cast<const Bytes4*>(p)));
    return acc;
  }
};
using V256 = vnni::V256<DpEvex>;

template <class V>
using Q4K = vnni::QK<V, BlockQ4_Kx8, false>;
template <class V>
using Q5K = vnni::QK<V, BlockQ5_Kx8, true>;

// Groups in pairs at 512 bits, an odd last one at 256 bits. Decode steps (1 token, or
// up to kStreamTokens tokens: the decode steps of several sequences batched together)
// stream one group at a time at 256 bits, each weight block read once for all the
// tokens: with weights from DRAM the pairs' two streams, 1 group apart, made a 2-8 token
// step cost 1.5-2x the 1-token one (kernels_bench BM_SmallBatch, cold), where one stream
// costs 1.1-1.4x. Same results either way.
constexpr int kStreamTokens = 8;
template <template <class> class K>
void groups(int64_t n, const void* wv, size_t gs, int64_t ng, const void* xv, size_t xs, int nt,
            float* y, int64_t ldy) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv);
  int64_t g = 0;
  if (nt <= kStreamTokens) {
    for (; g < ng; ++g)
      vnni::sweep<K<V256>, V256>(n, w + g * gs, w + g * gs, x, xs, nt, y + 8 * g, ldy);
    return;
  }
  for (; g + 2 <= ng; g += 2)
    vnni::sweep<K<V512>, V512>(n, w + g * gs, w + (g + 1) * gs, x, xs, nt, y + 8 * g, ldy);
  if (g < ng) vnni::sweep<K<V256>, V256>(n, w + g * gs, w + g * gs, x, xs, nt, y + 8 * g, ldy);
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

}  // namespace qwen3::avx512
