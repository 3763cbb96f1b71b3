// TransposedWeights: dequantize, transpose, store as F32 or Q8_0.
#include "train/transposed_weights.h"

#include <algorithm>
#include <cstring>

#include "kernels/quant.h"
#include "kernels/rows8.h"
#include "model/model_weights.h"

namespace qwen3::train {

namespace {

constexpr int64_t kBlock = 64;  // source rows dequantized at a time

// The stride of those rows in floats: cols plus one cache line, so the kBlock reads of one
// column fall in different L1 sets (a stride of a multiple of 4 KiB puts them all in one
// set, which holds 12 lines: the scatter then misses on every read).
int64_t block_stride(int64_t cols) {
  return cols + 16;
}

// Rows [r0, r0 + kBlock) of w, dequantized into `rows` (kBlock x block_stride), scattered into the
// transposed dst (cols x w.rows floats). A rows8 matrix is unpacked once per group of 8
// rows (dequantize_matrix_row would unpack the group for each of its rows); `plain` holds
// the unpacked group.
void transpose_block(const WeightMatrix& w, int64_t r0, float* rows, float* dst,
                     std::vector<uint8_t>& plain) {
  const int64_t R = w.rows, C = w.cols, nr = std::min(kBlock, R - r0), S = block_stride(C);
  if (w.layout == WeightLayout::Rows8) {  // rows a multiple of 8, r0 of kBlock
    const size_t ws = ggml_row_size(w.type, C), gs = rows8_group_size(w.type, C);
    plain.resize(8 * ws);
    for (int64_t g = 0; g < nr; g += 8) {
      unpack_rows8(w.type,
                   static_cast<const uint8_t*>(w.data) + static_cast<size_t>((r0 + g) / 8) * gs, C,
                   plain.data(), ws);
      for (int64_t i = 0; i < 8; ++i)
        dequantize_row(w.type, plain.data() + i * ws, rows + (g + i) * S, C);
    }
  } else {
    for (int64_t i = 0; i < nr; ++i) dequantize_matrix_row(w, r0 + i, rows + i * S);
  }
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < nr; ++i) dst[c * R + r0 + i] = rows[i * S + c];
}

}  // namespace

void transpose_f32(const WeightMatrix& w, float* dst, ThreadPool& pool) {
  const int64_t n_blocks = (w.rows + kBlock - 1) / kBlock;
  pool.parallel_for(n_blocks, [&](int64_t b, int64_t e, int) {
    std::vector<float> rows(static_cast<size_t>(kBlock * block_stride(w.cols)));
    std::vector<uint8_t> plain;
    for (int64_t i = b; i < e; ++i) transpose_block(w, i * kBlock, rows.data(), dst, plain);
  });
}

TransposedMatrix transpose_matrix(const WeightMatrix& w, ThreadPool* pool) {
  const int64_t R = w.rows, C = w.cols;
  const bool exact =
      w.type == GgmlType::F32 || w.type == GgmlType::F16 || w.type == GgmlType::BF16 || R % 32 != 0;
  const GgmlType out_type = exact ? GgmlType::F32 : GgmlType::Q8_0;
  const size_t row_bytes = ggml_row_size(out_type, R);
  TransposedMatrix t;
  t.bytes.reset(new uint8_t[row_bytes * static_cast<size_t>(C)]);
  // Blocks of 64 source rows: dequantized, then scattered into the transposed rows.
  std::vector<float> rows(static_cast<size_t>(kBlock * block_stride(C)));
  std::unique_ptr<float[]> full;  // the transposed matrix in F32 when quantizing (no memset)
  float* dst = exact ? reinterpret_cast<float*>(t.bytes.get()) : nullptr;
  if (!exact) {
    full.reset(new float[static_cast<size_t>(R * C)]);
    dst = full.get();
  }
  std::vector<uint8_t> plain;
  for (int64_t r0 = 0; r0 < R; r0 += kBlock) transpose_block(w, r0, rows.data(), dst, plain);
  if (!exact)
    for (int64_t c = 0; c < C; ++c)
      quantize_row(GgmlType::Q8_0, full.get() + c * R, t.bytes.get() + c * row_bytes, R);
  t.wt = {out_type, C, R, t.bytes.get()};
  // The interleaved layout the fast kernels prefer, as the loader does for the base.
  if (pool && prefers_rows8(t.wt)) {
    std::unique_ptr<uint8_t[]> packed(new uint8_t[rows8_bytes(t.wt)]);
    t.wt = to_rows8(t.wt, packed.get(), *pool);
    t.bytes = std::move(packed);
  }
  return t;
}

TransposedWeights TransposedWeights::build(const ModelWeights& w, ThreadPool& pool) {
  TransposedWeights T;
  const size_t L = w.layers.size();
  T.layers.resize(L);
  for (auto& l : T.layers) l.resize(7);
  // One job per matrix, claimed by the pool's threads.
  const int64_t n_jobs = static_cast<int64_t>(L * 7 + 1);
  pool.parallel_for(n_jobs, [&](int64_t b, int64_t e, int) {
    for (int64_t j = b; j < e; ++j) {
      if (j == n_jobs - 1) {
        T.output = transpose_matrix(w.output, &pool);
        continue;
      }
      const LayerWeights& lw = w.layers[static_cast<size_t>(j / 7)];
      if (j % 7 >= 4 && !lw.exp_gate.empty()) continue;  // MoE: experts per step
      const WeightMatrix* m[7] = {&lw.wq, &lw.wk, &lw.wv, &lw.wo, &lw.w_gate, &lw.w_up, &lw.w_down};
      T.layers[static_cast<size_t>(j / 7)][static_cast<size_t>(j % 7)] =
          transpose_matrix(*m[j % 7]);
    }
  });
  auto size_of = [](const TransposedMatrix& t) {
    return ggml_row_size(t.wt.type, t.wt.cols) * t.wt.rows;
  };
  T.bytes = size_of(T.output);
  for (auto& l : T.layers)
    for (auto& t : l) T.bytes += static_cast<size_t>(size_of(t));
  return T;
}

}  // namespace qwen3::train
