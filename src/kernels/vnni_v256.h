// The 256-bit vector traits of the VNNI rows8 kernels (rows8_vnni.h): one rows8 group per
// vector. AVX-VNNI (VEX) and AVX-512 VNNI+VL (EVEX) differ only in the encoding of the
// dot-product instructions, so this header takes them as a parameter: Dp provides
// dp(acc, u8, s8) (vpdpbusd), dpw(acc, a16, b16) (vpdpwssd) on __m256i, and their forms
// with the second operand broadcast from 4 bytes in memory, dpb and dpwb (EVEX: one
// instruction with an embedded broadcast; VEX: a broadcast load first).
//
// Include only from a file built for a VNNI level (*_avxvnni.cpp, *_avx512.cpp), like
// rows8_vnni.h: everything sits in an anonymous namespace, so each file gets its own
// copy compiled with its own flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace qwen3::vnni {
namespace {

inline __m128i load128(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}
inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// The int32 at p in every lane.
inline __m256i bcast32(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

template <class Dp>
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
  static vi dp(vi acc, vi u, vi s) { return Dp::dp(acc, u, s); }
  static vi dpw(vi acc, vi a, vi b) { return Dp::dpw(acc, a, b); }
  static vi dpb(vi acc, vi u, const int8_t* p) { return Dp::dpb(acc, u, p); }
  static vi dpwb(vi acc, vi a, const void* p) { return Dp::dpwb(acc, a, p); }
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
  static vi srli32(vi a, int n) { return _mm256_srli_epi32(a, n); }
  static vi srai32(vi a, int n) { return _mm256_srai_epi32(a, n); }
  static vi add(vi a, vi b) { return _mm256_add_epi32(a, b); }
  static vi sub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
  static vi sub16(vi a, vi b) { return _mm256_sub_epi16(a, b); }
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

}  // namespace
}  // namespace qwen3::vnni
