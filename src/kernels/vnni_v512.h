// The 512-bit vector traits of the VNNI rows8 kernels (rows8_vnni.h): two rows8 groups
// per vector, lanes 0-7 the rows of group g and lanes 8-15 those of group g+1. Shared by
// the avx512 kernels and the amx ones (which unpack their tile operands with the same
// traits, so both levels see the same weight values).
//
// Include only from a file built with the AVX-512 flags (*_avx512.cpp, *_amx.cpp), like
// rows8_vnni.h: everything sits in an anonymous namespace, so each file gets its own
// copy compiled with its own flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/vnni_v256.h"

namespace qwen3::vnni {
namespace {

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

}  // namespace
}  // namespace qwen3::vnni
