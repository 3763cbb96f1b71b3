// AVX-512 GELU of the vision encoder (vision_ops.h): x rounded to F16 (round to nearest
// even, as fp32_to_fp16), its value looked up in ggml's table by the F16 bits (a
// gather), x <= -10 -> 0 and x >= 10 -> x, as gelu_ggml does.
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on its own _mm512_undefined_*
// pass-through operands; the warning is about the header, not this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cstdint>

namespace qwen3::vision::avx512 {

void gelu_table_lookup(float* x, int64_t n, const float* table) {
  const __m512 lo = _mm512_set1_ps(-10.0f), hi = _mm512_set1_ps(10.0f);
  int64_t i = 0;
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    const __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512i idx = _mm512_cvtepu16_epi32(h);
    __m512 g = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, table, 4);
    g = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, hi, _CMP_GE_OQ), g, v);
    g = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lo, _CMP_LE_OQ), g, _mm512_setzero_ps());
    _mm512_mask_storeu_ps(x + i, m, g);
  }
}

}  // namespace qwen3::vision::avx512
