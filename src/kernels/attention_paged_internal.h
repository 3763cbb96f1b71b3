// The SIMD versions of attention_paged_rows (attention_paged.h; one row = attention_paged),
// one per *_avx2.cpp / *_avx512.cpp file over attention_paged_simd.h, called only from
// attention_paged.cpp's dispatch. Both need dim and block_size multiples of 8 and give the
// same bits (the contract in attention_paged.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/attention_paged.h"

namespace qwen3 {

// Floats between the scores of one query and the next in the scratch: the keys rounded up
// to whole blocks (the SIMD kernels store the scores of whole 8- or 16-row chunks of a
// block), then to 16 floats, plus 16. attention_paged_scratch is this per query plus 16
// (the SIMD kernels start at the scratch's first 64-byte boundary).
inline std::size_t paged_score_stride(int n_keys, int block_size) {
  const std::size_t bs = static_cast<std::size_t>(block_size < 1 ? 1 : block_size);
  const std::size_t rows = (static_cast<std::size_t>(n_keys < 1 ? 1 : n_keys) + bs - 1) / bs * bs;
  return (rows + 15) / 16 * 16 + 16;
}

namespace avx2 {
void quantize_kv_q8_0(const float* x, int n, std::int8_t* q, std::uint16_t* d);
void attention_paged_rows(const PagedKv& kv, const PagedQueries& qs, int dim, float scale,
                          float* scratch);
// p = exp((s - max(s)) * scale) in place over s[0..n); returns 1 / sum(p). The AVX-512
// kernel's 16-lane softmax gives the same bits (attention_paged_avx512.cpp).
float paged_softmax(float* s, int n, float scale);
}  // namespace avx2
namespace avx512 {
void attention_paged_rows(const PagedKv& kv, const PagedQueries& qs, int dim, float scale,
                          float* scratch);
}  // namespace avx512
}  // namespace qwen3
