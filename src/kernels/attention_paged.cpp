// attention_paged: the scalar reference and the dispatch by SIMD level (see
// attention_paged.h).
#include "kernels/attention_paged.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/attention_paged_internal.h"
#include "kernels/cpu_features.h"
#include "kernels/fp16.h"

namespace qwen3 {
namespace {

float element(const void* p, std::size_t i, bool f16) {
  return f16 ? fp16_to_fp32(static_cast<const std::uint16_t*>(p)[i])
             : static_cast<const float*>(p)[i];
}

float key_at(const PagedKv& kv, const void* kb, int row, int d, int dim) {
  return paged_key_at(kv.type, kb, kv.block_size, row, d, dim);
}

float value_at(const PagedKv& kv, const void* vb, int row, int d, int dim) {
  return paged_value_at(kv.type, vb, kv.block_size, row, d, dim);
}

}  // namespace

float paged_key_at(KvType t, const void* kb, int block_size, int row, int d, int dim) {
  const std::size_t bs = static_cast<std::size_t>(block_size);
  const std::size_t i = static_cast<std::size_t>(d) * bs + row;
  if (t != KvType::Q8_0) return element(kb, i, t == KvType::F16);
  const auto* s =
      reinterpret_cast<const std::uint16_t*>(static_cast<const std::uint8_t*>(kb) + bs * dim);
  return static_cast<float>(static_cast<const std::int8_t*>(kb)[i]) *
         fp16_to_fp32(s[static_cast<std::size_t>(d / 32) * bs + row]);
}

float paged_value_at(KvType t, const void* vb, int block_size, int row, int d, int dim) {
  const std::size_t i = static_cast<std::size_t>(row) * dim + d;
  if (t != KvType::Q8_0) return element(vb, i, t == KvType::F16);
  const auto* s = reinterpret_cast<const std::uint16_t*>(
      static_cast<const std::uint8_t*>(vb) + static_cast<std::size_t>(block_size) * dim);
  return static_cast<float>(static_cast<const std::int8_t*>(vb)[i]) *
         fp16_to_fp32(s[static_cast<std::size_t>(row) * (dim / 32) + d / 32]);
}

void quantize_kv_q8_0_ref(const float* x, int n, std::int8_t* q, std::uint16_t* d) {
  for (int g = 0; g < n / 32; ++g, x += 32, q += 32) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float dg = amax / 127;
    const float id = dg ? 1.0f / dg : 0.0f;
    d[g] = fp32_to_fp16(dg);
    for (int j = 0; j < 32; ++j) q[j] = static_cast<std::int8_t>(std::round(x[j] * id));
  }
}

void quantize_kv_q8_0(const float* x, int n, std::int8_t* q, std::uint16_t* d) {
#if QWEN3_ARCH_X86
  if (use_avx2()) return avx2::quantize_kv_q8_0(x, n, q, d);
#endif
  quantize_kv_q8_0_ref(x, n, q, d);
}

std::size_t attention_paged_scratch(int n_keys, int n_q, int block_size) {
  // Per query paged_score_stride (attention_paged_internal.h), plus 16 floats: the SIMD
  // kernels start at the scratch's first 64-byte boundary.
  return paged_score_stride(n_keys, block_size) * static_cast<std::size_t>(std::max(n_q, 1)) + 16;
}

void attention_paged_ref(const PagedKv& kv, int n_keys, int dim, const float* q,
                         std::int64_t q_stride, int n_q, float scale, float* out,
                         std::int64_t o_stride, float* scratch) {
  const int bs = kv.block_size;
  const std::size_t per = paged_score_stride(n_keys, bs);
  const auto* kbase = static_cast<const std::uint8_t*>(kv.k);
  const auto* vbase = static_cast<const std::uint8_t*>(kv.v);
  for (int i = 0; i < n_q; ++i) {
    const float* qi = q + i * q_stride;
    float* s = scratch + static_cast<std::size_t>(i) * per;
    for (int r = 0; r < n_keys; ++r) {
      const void* kb = kbase + static_cast<std::size_t>(kv.table[r / bs]) * kv.block_bytes;
      const int row = r % bs;
      float a[4] = {0, 0, 0, 0};
      for (int d = 0; d < dim; ++d) a[d % 4] += key_at(kv, kb, row, d, dim) * qi[d];
      s[r] = (a[0] + a[1]) + (a[2] + a[3]);
    }
    float m = s[0];
    for (int r = 1; r < n_keys; ++r) m = std::max(m, s[r]);
    float sum = 0;
    for (int r = 0; r < n_keys; ++r) {
      s[r] = std::exp((s[r] - m) * scale);
      sum += s[r];
    }
    const float inv = 1.0f / sum;
    float* o = out + i * o_stride;
    std::fill(o, o + dim, 0.0f);
    for (int r = 0; r < n_keys; ++r) {
      const void* vb = vbase + static_cast<std::size_t>(kv.table[r / bs]) * kv.block_bytes;
      for (int d = 0; d < dim; ++d) o[d] += s[r] * value_at(kv, vb, r % bs, d, dim);
    }
    for (int d = 0; d < dim; ++d) o[d] *= inv;
  }
}

std::size_t attention_paged_rows_scratch(int n_keys, int n_rows, int n_heads, int block_size,
                                         int dim) {
  // The scores of every (row, head) pair at the last row's keys, then the tile's buffers
  // (attention_paged_simd.h): 1 / sum per pair, two blocks converted to floats, and the
  // pairs' accumulators, plus 16 for whole-vector stores.
  const std::size_t pairs = static_cast<std::size_t>(std::max(n_rows, 1) * std::max(n_heads, 1));
  return attention_paged_scratch(n_keys + std::max(n_rows, 1) - 1, static_cast<int>(pairs),
                                 block_size) +
         (pairs + 15) / 16 * 16 + 2 * static_cast<std::size_t>(std::max(block_size, 1)) * dim +
         pairs * dim + 16;
}

void attention_paged_rows(const PagedKv& kv, const PagedQueries& qs, int dim, float scale,
                          float* scratch) {
  if (qs.n_keys <= 0 || qs.n_rows <= 0 || qs.n_heads <= 0) return;
#if QWEN3_ARCH_X86
  if (dim % 8 == 0 && kv.block_size % 8 == 0 && (kv.type != KvType::Q8_0 || dim % 32 == 0)) {
    if (avx512_family(isa_level()))
      return avx512::attention_paged_rows(kv, qs, dim, scale, scratch);
    if (use_avx2()) return avx2::attention_paged_rows(kv, qs, dim, scale, scratch);
  }
#endif
  for (int i = 0; i < qs.n_rows; ++i)
    attention_paged_ref(kv, qs.n_keys + i, dim, qs.q + i * qs.row_stride, qs.head_stride,
                        qs.n_heads, scale, qs.out + i * qs.out_row_stride, qs.out_head_stride,
                        scratch);
}

void attention_paged(const PagedKv& kv, int n_keys, int dim, const float* q, std::int64_t q_stride,
                     int n_q, float scale, float* out, std::int64_t o_stride, float* scratch) {
  PagedQueries qs;
  qs.q = q;
  qs.head_stride = q_stride;
  qs.out = out;
  qs.out_head_stride = o_stride;
  qs.n_heads = n_q;
  qs.n_keys = n_keys;
  attention_paged_rows(kv, qs, dim, scale, scratch);
}

}  // namespace qwen3
