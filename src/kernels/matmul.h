// Weight matrix times activations: the product's hot loop. Quantized weights take the
// integer path of llama.cpp: X is quantized to 8-bit blocks (Q8_0 / Q8_1 / Q8_K) once,
// then each weight block is dotted with integer multiply-adds.
#pragma once

#include <cstdint>

#include "gguf/ggml_types.h"
#include "kernels/thread_pool.h"

namespace qwen3 {

// `rows` rows of `cols` elements of type `type`, row-major as GGUF stores it (ne0 = cols).
struct WeightMatrix {
  GgmlType type;
  int64_t rows;
  int64_t cols;
  const void* data;
};

// X: n_tok rows of `cols` floats. Y: n_tok rows of `rows` floats,
// Y[t*rows + r] = dot(W row r, X row t). Throws std::invalid_argument for an unsupported
// type or a cols that is not a multiple of the block size.
void matmul(const WeightMatrix& W, const float* X, int64_t n_tok, float* Y, ThreadPool& pool);

// The same product on the scalar reference path (single thread), for tests.
void matmul_ref(const WeightMatrix& W, const float* X, int64_t n_tok, float* Y);

}  // namespace qwen3
