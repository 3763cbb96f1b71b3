// AVX2 + FMA + F16C versions of the LoRA kernels (lora_kernels.h): 8 floats per vector,
// F16 widened with F16C, BF16 by a 16-bit shift; the same sums as the scalar reference
// in the same order (fused multiply-adds aside). Both prefetch their stream ahead.
#include <immintrin.h>

#include <algorithm>

#include "model/lora_kernels.h"

namespace qwen3::avx2 {

namespace {

template <GgmlType T>
inline __m256 load8(const void* p, size_t i) {
  if constexpr (T == GgmlType::F16) {
    return _mm256_cvtph_ps(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i)));
  } else if constexpr (T == GgmlType::BF16) {
    const __m128i h =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  } else {
    return _mm256_loadu_ps(static_cast<const float*>(p) + i);
  }
}

static_assert(kLoraCols == 32, "b_impl works in 4 vectors of 8 columns");

template <GgmlType T>
inline float load1(const void* p, size_t i) {
  if constexpr (T == GgmlType::F16) {
    return _cvtsh_ss(static_cast<const uint16_t*>(p)[i]);
  } else if constexpr (T == GgmlType::BF16) {
    return _mm_cvtss_f32(_mm_castsi128_ps(
        _mm_cvtsi32_si128(static_cast<int>(static_cast<const uint16_t*>(p)[i]) << 16)));
  } else {
    return static_cast<const float*>(p)[i];
  }
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Prefetch distance in bytes, ahead of where each stream reads (as the AVX-512 kernels:
// the pieces of A and B a work item reads are too short for the hardware prefetchers).
constexpr int kAhead = 1024;

template <GgmlType T>
constexpr int elem_size() {
  return T == GgmlType::F32 ? 4 : 2;
}

inline void prefetch(const void* p) {
  _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
}

// R rows of A (starting at element offset `row`, `in` apart) dotted with x. Each row's
// prefetch runs on into the row R further (read next) once it passes its own end,
// up to `end` (the work item's last element).
template <GgmlType T, int R>
inline void dot_rows(const void* a, size_t row, size_t end, int in, const float* x, float* out) {
  constexpr int kLine = 64 / elem_size<T>();  // elements per cache line
  constexpr int kAheadN = kAhead / elem_size<T>();
  const auto* bytes = static_cast<const uint8_t*>(a);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= in; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    if (i % kLine == 0)
      for (int r = 0; r < R; ++r) {
        size_t e = row + static_cast<size_t>(r) * in + i + kAheadN;
        if (i + kAheadN >= in) e += static_cast<size_t>(R - 1) * in;
        if (e < end) prefetch(bytes + e * elem_size<T>());
      }
    for (int r = 0; r < R; ++r)
      acc[r] = _mm256_fmadd_ps(load8<T>(a, row + static_cast<size_t>(r) * in + i), xv, acc[r]);
  }
  for (int r = 0; r < R; ++r) {
    float s = hsum(acc[r]);
    for (int j = i; j < in; ++j) s += load1<T>(a, row + static_cast<size_t>(r) * in + j) * x[j];
    out[r] = s;
  }
}

template <GgmlType T>
void a_impl(const LoraView& v, int k0, int k1, const float* x, int n, int64_t ldx, float s,
            float* ax, int ldax) {
  const size_t end = static_cast<size_t>(k1) * static_cast<size_t>(v.in);
  for (int t = 0; t < n; ++t) {
    const float* xt = x + t * ldx;
    float* o = ax + static_cast<size_t>(t) * ldax;
    int k = k0;
    for (; k + 4 <= k1; k += 4) {
      dot_rows<T, 4>(v.a, static_cast<size_t>(k) * v.in, end, v.in, xt, o + k);
      for (int r = 0; r < 4; ++r) o[k + r] *= s;
    }
    for (; k < k1; ++k) {
      dot_rows<T, 1>(v.a, static_cast<size_t>(k) * v.in, end, v.in, xt, o + k);
      o[k] *= s;
    }
  }
}

// Any [c0, c1): each column block is computed whole (its 32 columns, the same sums
// whatever the range) and only the range's columns are added, so a column's result does
// not depend on how the columns were split into ranges.
template <GgmlType T>
void b_impl(const LoraView& v, int c0, int c1, const float* ax, int n, int ldax, float* y,
            int64_t ldy) {
  const size_t block = static_cast<size_t>(v.rank) * kLoraCols;
  const auto* bytes = static_cast<const uint8_t*>(v.bt);
  const size_t first = static_cast<size_t>(c0 / kLoraCols) * block * elem_size<T>();
  const uint8_t* stream_end =
      bytes + static_cast<size_t>((c1 + kLoraCols - 1) / kLoraCols) * block * elem_size<T>();
  // The stream's first kAhead bytes now; then each k row prefetches the row kAhead further.
  for (const uint8_t* p = bytes + first; p < stream_end && p < bytes + first + kAhead; p += 64)
    prefetch(p);
  for (int c = c0 / kLoraCols * kLoraCols; c < c1; c += kLoraCols) {
    const size_t base = static_cast<size_t>(c / kLoraCols) * block;
    const int lo = std::max(c0, c) - c, hi = std::min(c1, c + kLoraCols) - c;
    for (int t = 0; t < n; ++t) {
      const float* at = ax + static_cast<size_t>(t) * ldax;
      float* yt = y + t * ldy + c;
      __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                       _mm256_setzero_ps()};
      for (int k = 0; k < v.rank; ++k) {
        const __m256 a = _mm256_broadcast_ss(at + k);
        const size_t row = base + static_cast<size_t>(k) * kLoraCols;
        if (t == 0) {
          const uint8_t* p = bytes + row * elem_size<T>() + kAhead;
          for (int l = 0; l < kLoraCols * elem_size<T>(); l += 64)
            if (p + l < stream_end) prefetch(p + l);
        }
        for (int j = 0; j < 4; ++j)
          acc[j] = _mm256_fmadd_ps(a, load8<T>(v.bt, row + 8 * j), acc[j]);
      }
      if (lo == 0 && hi == kLoraCols) {
        for (int j = 0; j < 4; ++j)
          _mm256_storeu_ps(yt + 8 * j, _mm256_add_ps(_mm256_loadu_ps(yt + 8 * j), acc[j]));
      } else {  // part of a block (a range's ends, the zero-padded last block)
        alignas(32) float tmp[kLoraCols];
        for (int j = 0; j < 4; ++j) _mm256_store_ps(tmp + 8 * j, acc[j]);
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

}  // namespace qwen3::avx2
