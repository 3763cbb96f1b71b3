// The SIMD versions of attention_paged_rows (attention_paged.h; one row = attention_paged),
// one per *_avx2.cpp / *_avx512.cpp file over attention_paged_simd.h, called only from
// attention_paged.cpp's dispatch. Both need dim and block_size multiples of 8 and give the
// same bits (the contract in attention_paged.h).
#pragma once

#include <cstdint>

#include "kernels/attention_paged.h"

namespace qwen3 {
namespace avx2 {
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
