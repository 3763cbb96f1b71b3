// AVX-512 (F, BW, VL) versions of the LoRA kernels (lora_kernels.h): 16 floats per vector,
// F16 widened with VCVTPH2PS, BF16 by a 16-bit shift, the rows' tails by masked loads.
// The decode reads each adapter byte once per token in short pieces (an A work item is
// 8 rows, a B product the rows of one matmul work item), so both kernels prefetch their
// own stream a fixed distance ahead: the hardware prefetchers need several misses to
// start on a stream, and most pieces end before they would. Sums in F32; the order of
// the terms differs from the AVX2 kernels (more accumulators), so the two levels agree
// within rounding, and each level gives the same bits whatever the threads or batching.
#include "kernels/avx512_gcc_warnings.h"  // (first: silences GCC 12 false positives)

#include <immintrin.h>

#include <algorithm>

#include "model/lora_kernels.h"

namespace qwen3::avx512 {

namespace {

// Prefetch distance in bytes, ahead of where each stream reads.
constexpr int kAhead = 1024;

template <GgmlType T>
constexpr int elem_size() {
  return T == GgmlType::F32 ? 4 : 2;
}

// 16 values from i (all present).
template <GgmlType T>
inline __m512 load16(const void* p, size_t i) {
  if constexpr (T == GgmlType::F16) {
    return _mm512_cvtph_ps(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(p) + i)));
  } else if constexpr (T == GgmlType::BF16) {
    const __m256i h =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(p) + i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {
    return _mm512_loadu_ps(static_cast<const float*>(p) + i);
  }
}

// The values of `m`'s lanes from i, zero elsewhere (nothing read outside the lanes).
template <GgmlType T>
inline __m512 load16_mask(const void* p, size_t i, __mmask16 m) {
  if constexpr (T == GgmlType::F16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i));
  } else if constexpr (T == GgmlType::BF16) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(p) + i);
  }
}

inline void prefetch(const void* p) {
  _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
}

// R rows of A from element `row` (`in` apart) dotted with x; out[r] = s * sum. Rows
// past `row` + R up to `end` (the work item's last element) are the next ones read, so
// each row's prefetch runs on into the row R further once it passes its own end.
template <GgmlType T, int R>
inline void dot_rows(const void* a, size_t row, size_t end, int in, const float* x, float s,
                     float* out) {
  constexpr int kStep = 64 / elem_size<T>();  // elements per cache line
  const auto* bytes = static_cast<const uint8_t*>(a);
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  int i = 0;
  for (; i + 16 <= in; i += 16) {
    const __m512 xv = _mm512_loadu_ps(x + i);
    if (i % kStep == 0) {
      for (int r = 0; r < R; ++r) {
        size_t e = row + static_cast<size_t>(r) * in + i + kAhead / elem_size<T>();
        if (i + kAhead / elem_size<T>() >= in) e += static_cast<size_t>(R - 1) * in;
        if (e < end) prefetch(bytes + e * elem_size<T>());
      }
    }
    for (int r = 0; r < R; ++r)
      acc[r] = _mm512_fmadd_ps(load16<T>(a, row + static_cast<size_t>(r) * in + i), xv, acc[r]);
  }
  if (i < in) {
    const __mmask16 m = static_cast<__mmask16>((1u << (in - i)) - 1);
    const __m512 xv = _mm512_maskz_loadu_ps(m, x + i);
    for (int r = 0; r < R; ++r)
      acc[r] =
          _mm512_fmadd_ps(load16_mask<T>(a, row + static_cast<size_t>(r) * in + i, m), xv, acc[r]);
  }
  for (int r = 0; r < R; ++r) out[r] = s * _mm512_reduce_add_ps(acc[r]);
}

template <GgmlType T>
void a_impl(const LoraView& v, int k0, int k1, const float* x, int n, int64_t ldx, float s,
            float* ax, int ldax) {
  const size_t in = static_cast<size_t>(v.in), end = static_cast<size_t>(k1) * in;
  for (int t = 0; t < n; ++t) {
    const float* xt = x + t * ldx;
    float* o = ax + static_cast<size_t>(t) * ldax;
    int k = k0;
    for (; k + 8 <= k1; k += 8) dot_rows<T, 8>(v.a, k * in, end, v.in, xt, s, o + k);
    for (; k + 4 <= k1; k += 4) dot_rows<T, 4>(v.a, k * in, end, v.in, xt, s, o + k);
    for (; k < k1; ++k) dot_rows<T, 1>(v.a, k * in, end, v.in, xt, s, o + k);
  }
}

static_assert(kLoraCols == 32, "b_impl works in 2 vectors of 16 columns");

// Any [c0, c1): each column block is computed whole (its 32 columns, the same sums
// whatever the range) and only the range's columns are added, so a column's result does
// not depend on how the columns were split into ranges. Even and odd k go to separate
// accumulators (two chains of rank / 2 multiply-adds per vector instead of one of rank).
template <GgmlType T>
void b_impl(const LoraView& v, int c0, int c1, const float* ax, int n, int ldax, float* y,
            int64_t ldy) {
  const size_t block = static_cast<size_t>(v.rank) * kLoraCols;
  const auto* bytes = static_cast<const uint8_t*>(v.bt);
  const int first = c0 / kLoraCols, last = (c1 + kLoraCols - 1) / kLoraCols;  // blocks
  const uint8_t* stream_end = bytes + static_cast<size_t>(last) * block * elem_size<T>();
  // The first kAhead bytes now; then each k row prefetches the row kAhead further.
  for (const uint8_t* p = bytes + static_cast<size_t>(first) * block * elem_size<T>();
       p < stream_end && p < bytes + (static_cast<size_t>(first) * block * elem_size<T>() + kAhead);
       p += 64)
    prefetch(p);
  for (int b = first; b < last; ++b) {
    const int c = b * kLoraCols;
    const size_t base = static_cast<size_t>(b) * block;
    const int lo = std::max(c0, c) - c, hi = std::min(c1, c + kLoraCols) - c;
    for (int t = 0; t < n; ++t) {
      const float* at = ax + static_cast<size_t>(t) * ldax;
      float* yt = y + t * ldy + c;
      __m512 e0 = _mm512_setzero_ps(), e1 = _mm512_setzero_ps(), o0 = _mm512_setzero_ps(),
             o1 = _mm512_setzero_ps();
      int k = 0;
      for (; k + 2 <= v.rank; k += 2) {
        const size_t row = base + static_cast<size_t>(k) * kLoraCols;
        if (t == 0) {
          const uint8_t* p = bytes + row * elem_size<T>() + kAhead;
          for (int l = 0; l < 2 * kLoraCols * elem_size<T>(); l += 64)
            if (p + l < stream_end) prefetch(p + l);
        }
        const __m512 a0 = _mm512_set1_ps(at[k]), a1 = _mm512_set1_ps(at[k + 1]);
        e0 = _mm512_fmadd_ps(a0, load16<T>(v.bt, row), e0);
        e1 = _mm512_fmadd_ps(a0, load16<T>(v.bt, row + 16), e1);
        o0 = _mm512_fmadd_ps(a1, load16<T>(v.bt, row + kLoraCols), o0);
        o1 = _mm512_fmadd_ps(a1, load16<T>(v.bt, row + kLoraCols + 16), o1);
      }
      if (k < v.rank) {
        const size_t row = base + static_cast<size_t>(k) * kLoraCols;
        const __m512 a0 = _mm512_set1_ps(at[k]);
        e0 = _mm512_fmadd_ps(a0, load16<T>(v.bt, row), e0);
        e1 = _mm512_fmadd_ps(a0, load16<T>(v.bt, row + 16), e1);
      }
      const __m512 s0 = _mm512_add_ps(e0, o0), s1 = _mm512_add_ps(e1, o1);
      if (lo == 0 && hi == kLoraCols) {
        _mm512_storeu_ps(yt, _mm512_add_ps(_mm512_loadu_ps(yt), s0));
        _mm512_storeu_ps(yt + 16, _mm512_add_ps(_mm512_loadu_ps(yt + 16), s1));
      } else {  // part of a block (a range's ends, the zero-padded last block)
        alignas(64) float tmp[kLoraCols];
        _mm512_store_ps(tmp, s0);
        _mm512_store_ps(tmp + 16, s1);
        for (int i = lo; i < hi; ++i) yt[i] += tmp[i];
      }
    }
  }
}

void lora_a(const LoraView& v, int k0, int k1, const float* x, int n, int64_t ldx, float s,
            float* ax, int ldax) {
  with_lora_type(v.type,
                 [&](auto t) { a_impl<decltype(t)::value>(v, k0, k1, x, n, ldx, s, ax, ldax); });
}

void lora_b(const LoraView& v, int c0, int c1, const float* ax, int n, int ldax, float* y,
            int64_t ldy) {
  with_lora_type(v.type,
                 [&](auto t) { b_impl<decltype(t)::value>(v, c0, c1, ax, n, ldax, y, ldy); });
}

}  // namespace

const LoraKernels kLoraKernels{lora_a, lora_b};

}  // namespace qwen3::avx512
