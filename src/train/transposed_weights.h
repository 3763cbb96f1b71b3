// The frozen base matrices transposed, for the backward pass of `qwen3 finetune`:
// dx = W^T dy is then one ordinary matmul (the fast kernels of the forward pass) instead
// of a product against the transpose of a quantized matrix. F32, F16 and BF16 matrices
// are transposed exactly into F32 (the gradient tests use F32 models); quantized ones
// are dequantized, transposed and stored as Q8_0 (about 1/256 relative error per
// element, well below the noise of a training step), or F32 when W has a row count that
// is not a multiple of 32.
//
// Mixture-of-experts bases: only the attention projections and the lm_head get a copy made
// at start. The experts' matrices are transposed one expert at a time during the backward
// (transpose_f32, into one reused F32 buffer), because copies of all of them would be the
// size of the model again (Qwen3-30B-A3B: ~31 GB in Q8_0, more than this machine's RAM).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/thread_pool.h"

namespace qwen3 {
struct ModelWeights;
}

namespace qwen3::train {

// One transposed matrix: cols x rows of the original, owning its bytes.
struct TransposedMatrix {
  WeightMatrix wt{};
  std::unique_ptr<uint8_t[]> bytes;
};

// W^T of `w` (any layout the forward pass uses); with a pool, a quantized result is put
// in the rows8 layout when the CPU's kernels prefer it.
TransposedMatrix transpose_matrix(const WeightMatrix& w, ThreadPool* pool = nullptr);

// W^T of `w` in F32 into dst (w.cols x w.rows floats): exactly the dequantized values,
// for a matmul with {F32, w.cols, w.rows, dst}. Parallel over blocks of rows.
void transpose_f32(const WeightMatrix& w, float* dst, ThreadPool& pool);

// The transposes of every block's seven projections and of the lm_head.
struct TransposedWeights {
  // Per layer: q, k, v, o, gate, up, down (LoraTarget order); gate, up and down are
  // empty in a mixture-of-experts block (see above).
  std::vector<std::vector<TransposedMatrix>> layers;
  TransposedMatrix output;
  size_t bytes = 0;
  static TransposedWeights build(const ModelWeights& w, ThreadPool& pool);
};

}  // namespace qwen3::train
