// The SIMD versions of attention_paged (attention_paged.h), one per *_avx2.cpp /
// *_avx512.cpp file, called only from attention_paged.cpp's dispatch. Both need dim and
// block_size multiples of 8 and give the same bits (the contract in attention_paged.h).
#pragma once

#include <cstdint>

#include "kernels/attention_paged.h"

namespace qwen3 {
namespace avx2 {
void attention_paged(const PagedKv& kv, int n_keys, int dim, const float* q, std::int64_t q_stride,
                     int n_q, float scale, float* out, std::int64_t o_stride, float* scratch);
// p = exp((s - max(s)) * scale) in place over s[0..n); returns 1 / sum(p). Shared by the
// AVX-512 kernel so both levels compute the same probabilities.
float paged_softmax(float* s, int n, float scale);
}  // namespace avx2
namespace avx512 {
void attention_paged(const PagedKv& kv, int n_keys, int dim, const float* q, std::int64_t q_stride,
                     int n_q, float scale, float* out, std::int64_t o_stride, float* scratch);
}  // namespace avx512
}  // namespace qwen3
