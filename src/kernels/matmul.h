// Weight matrix times activations: the product's hot loop. Quantized weights take the
// integer path of llama.cpp: X is quantized to 8-bit blocks (Q8_0 / Q8_1 / Q8_K) once,
// then each weight block is dotted with integer multiply-adds.
#pragma once

#include <cstdint>

#include "gguf/ggml_types.h"
#include "kernels/thread_pool.h"

namespace qwen3 {

// How a matrix's bytes are laid out: Plain = row-major as GGUF stores it; Rows8 = groups
// of 8 rows interleaved block by block (kernels/rows8.h), the fast layout for decode.
enum class WeightLayout : uint8_t { Plain, Rows8 };

// `rows` rows of `cols` elements of type `type` (ne0 = cols).
struct WeightMatrix {
  GgmlType type;
  int64_t rows;
  int64_t cols;
  const void* data;
  WeightLayout layout = WeightLayout::Plain;
};

// True if matmul on this CPU is faster with W in the Rows8 layout (AVX2, a type with
// rows8 kernels, rows a multiple of 8).
bool prefers_rows8(const WeightMatrix& W);
// Bytes of W in the Rows8 layout (equal to its plain size for Q4_0 and Q8_0).
size_t rows8_bytes(const WeightMatrix& W);
// Writes plain W into dst (rows8_bytes(W) bytes) in the Rows8 layout; returns the matrix
// over dst. Parallel over row groups.
WeightMatrix to_rows8(const WeightMatrix& W, void* dst, ThreadPool& pool);

// Row r of W as cols floats, in either layout (the embedding lookup of a tied lm_head).
void dequantize_matrix_row(const WeightMatrix& W, int64_t r, float* out);

// X: n_tok rows of `cols` floats. Y: n_tok rows of `rows` floats,
// Y[t*rows + r] = dot(W row r, X row t). Throws std::invalid_argument for an unsupported
// type or a cols that is not a multiple of the block size.
void matmul(const WeightMatrix& W, const float* X, int64_t n_tok, float* Y, ThreadPool& pool);

// Several products of the same activations: Y[i] = W[i] times X, i < n_mat (1..4), all
// W[i] with the same cols. X is converted once per activation format and all the
// matrices' rows go through one pass of the thread pool (Q/K/V, gate/up), so each
// Y[i] is bit-identical to matmul(*W[i], X, n_tok, Y[i], pool).
void matmul_multi(const WeightMatrix* const* W, float* const* Y, int n_mat, const float* X,
                  int64_t n_tok, ThreadPool& pool);

// Work that rides the same pass of the thread pool as a matmul_multi (the unmerged LoRA
// update of model/lora_apply.h: its A products before, its B products on each work
// item's fresh rows), so that it costs no hand-off of its own. pre(ctx, i) for i <
// n_pre is handed out before any matrix work item; post(ctx, mat, r0, r1) runs right
// after the work item that wrote rows [r0, r1) of Y[mat] (every token), by the same
// thread, once every pre item has finished. The items of post cover each Y[mat]'s rows
// exactly once, in ranges that are multiples of 16 rows (the last one aside) and depend
// on the pool's size. row_align > 0 (a multiple of 8 for rows8 matrices): every range
// also starts and ends on a multiple of row_align rows (or the matrix's end), e.g. whole
// attention heads, so that post can finish per-head work on fresh rows (model/
// batch_forward.cpp). Items grow to the next multiple; the products stay bit-identical.
// prep(prep_ctx, t), if set, writes row t of X (t < n_tok) inside the same pass: the
// first n_tok items, before the pre items; X's contents are read only after prep has
// written them (each row is converted to the activation format by the thread that wrote
// it), and every pre and matrix item waits for all of them. The per-token work that makes
// a matmul's input (the residual add and RMS norm of the forward pass) thus costs no
// hand-off of its own.
struct MatmulExtra {
  int64_t n_pre = 0;
  void (*pre)(void* ctx, int64_t item) = nullptr;
  void (*post)(void* ctx, int mat, int64_t r0, int64_t r1) = nullptr;
  void* ctx = nullptr;
  int64_t row_align = 0;
  void (*prep)(void* prep_ctx, int64_t tok) = nullptr;
  void* prep_ctx = nullptr;
};

// On (the default): each piece of a matmul_multi pass starts on a contiguous range of the
// work items (kernels/matmul.cpp); off: all pieces take items from the front of one shared
// range, in turn (the order before session 14). Same results either way: for benchmarks
// that compare the two within one process.
void set_matmul_split_ranges(bool on);

// Rows per work item of a matmul_multi call on W with `threads` threads (the items of
// post): exposed for tests of the planning rules.
int64_t matmul_item_rows(const WeightMatrix& W, int threads, int64_t row_align = 0);
void matmul_multi(const WeightMatrix* const* W, float* const* Y, int n_mat, const float* X,
                  int64_t n_tok, ThreadPool& pool, const MatmulExtra& extra);

// The same product on the scalar reference path (single thread), for tests.
void matmul_ref(const WeightMatrix& W, const float* X, int64_t n_tok, float* Y);

}  // namespace qwen3
