// Attention of the query heads of one grouped-query group over one KV head of a paged
// cache, in one call: scores over every block, softmax, then the values mixed block by
// block. The keys and values are read from memory once for the whole group, converted
// from fp16 once, and the next blocks are prefetched while one is computed, a few lines
// at a time (blocks of a sequence lie far apart in the pool, where the hardware
// prefetcher does not follow).
//
// Layout of a block's rows of one layer and KV head (model/kv_cache.h stores them so):
//   keys   transposed, dim-major: key (row r, dim d) at k[d * block_size + r], so the
//          scores of up to 16 rows are one vector register, with no horizontal sums;
//   values row-major: value (row r, dim d) at v[r * dim + d].
// Elements are fp16, float or q8_0 (PagedKv::q8: dim a multiple of 32): int8 quants in
// the layout above, then, at byte block_size * dim of the rows, fp16 scales, the keys'
// [d / 32][r], the values' [r][d / 32]; an element is float(q) * float(scale), which is
// exact in float (an 8-bit integer times an 11-bit mantissa), so attention over q8_0
// rows gives the bits of the float path over the dequantized rows (the same chains
// below, the dequantized element in place of the float one).
//
// The arithmetic, the same on every SIMD level (AVX2 and AVX-512 give the same bits; the
// scalar reference follows it without fused multiply-adds):
//   dot[i][r] = (a0 + a1) + (a2 + a3), a_u = fma chain over d = u, u+4, ... of k * q_i;
//   m_i = max_r dot[i][r];  p[i][r] = exp((dot[i][r] - m_i) * scale)  (simd_avx2.h exp_ps);
//   sum_i = 8-lane sums of p in order, then hsum;  out_i[d] = (fma chain over r of
//   p[i][r] * v[r][d]) * (1 / sum_i).
// Each output depends on its own query and sequence only, never on other calls.
//
// attention_paged_rows serves the rows of a prompt chunk: consecutive positions of one
// sequence, row i attending to one more key than row i - 1. It reads each key and value
// block once for all the rows and heads (attention_paged_simd.h), and gives each row and
// head exactly the bits attention_paged gives it alone.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kv_element.h"

namespace qwen3 {

// One sequence's keys and values of one layer and KV head in a paged pool.
struct PagedKv {
  const void* k = nullptr;      // block 0's key rows of this layer and head
  const void* v = nullptr;      // block 0's value rows
  const int* table = nullptr;   // the sequence's blocks, in position order
  std::size_t block_bytes = 0;  // bytes from one block of the pool to the next
  int block_size = 0;           // rows (positions) per block
  KvType type = KvType::F16;    // the rows' element type
  // Optional: the rows the caller attends to next (n_keys of them) on this thread. The
  // one-row kernel prefetches their first key blocks while it mixes its last values; the
  // results do not depend on it.
  const PagedKv* next = nullptr;
  int next_keys = 0;
};

// Query i (i < n_q) is q + i * q_stride (dim floats); it attends to rows 0..n_keys-1 of
// kv with scale; its output goes to out + i * o_stride (dim floats, overwritten).
// scratch: at least attention_paged_scratch(n_keys, n_q, kv.block_size) floats.
void attention_paged(const PagedKv& kv, int n_keys, int dim, const float* q, std::int64_t q_stride,
                     int n_q, float scale, float* out, std::int64_t o_stride, float* scratch);
std::size_t attention_paged_scratch(int n_keys, int n_q, int block_size);

// Query rows at consecutive positions of one sequence, each with n_heads heads sharing
// one KV head: head h of row i is q + i * row_stride + h * head_stride (dim floats) and
// attends to keys 0..n_keys + i - 1; its output goes to out + i * out_row_stride +
// h * out_head_stride (dim floats, overwritten).
struct PagedQueries {
  const float* q = nullptr;
  std::int64_t row_stride = 0, head_stride = 0;
  float* out = nullptr;
  std::int64_t out_row_stride = 0, out_head_stride = 0;
  int n_rows = 1, n_heads = 1;
  int n_keys = 0;  // keys of row 0
};
// Each (row, head) gets the bits of attention_paged over its own keys.
// scratch: at least attention_paged_rows_scratch(n_keys, n_rows, n_heads, block_size, dim)
// floats.
void attention_paged_rows(const PagedKv& kv, const PagedQueries& qs, int dim, float scale,
                          float* scratch);
std::size_t attention_paged_rows_scratch(int n_keys, int n_rows, int n_heads, int block_size,
                                         int dim);

// The quantizer of q8_0 rows: ggml's quantize_row_q8_0_ref over x[0..n) (n a multiple of
// 32): per 32 elements amax, d = amax / 127, id = d ? 1 / d : 0, q = roundf(x * id)
// (half away from zero), d stored as fp16. The same bytes on every level (AVX2 where the
// CPU has it: the KV cache quantizes every token's keys and values of every layer).
void quantize_kv_q8_0(const float* x, int n, std::int8_t* q, std::uint16_t* d);
void quantize_kv_q8_0_ref(const float* x, int n, std::int8_t* q, std::uint16_t* d);

// Element (row, d) of one block's key rows kb / value rows vb of element type t, in the
// layouts above (block_size rows of dim elements; q8_0: the quants, then the scales): the
// scalar readers the reference attention and KvPool::load use (q8_0: float(q) * float(d),
// exact in float, as the SIMD loaders compute it).
float paged_key_at(KvType t, const void* kb, int block_size, int row, int d, int dim);
float paged_value_at(KvType t, const void* vb, int block_size, int row, int d, int dim);

// The scalar reference (any dim, any block size).
void attention_paged_ref(const PagedKv& kv, int n_keys, int dim, const float* q,
                         std::int64_t q_stride, int n_q, float scale, float* out,
                         std::int64_t o_stride, float* scratch);

}  // namespace qwen3
