#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/kernels_avx2.h"
#include "kernels/kernels_avx512.h"
#include "kernels/kernels_avxvnni.h"
#include "kernels/kernels_neon.h"
#include "kernels/matmul_internal.h"
#include "kernels/quant.h"
#include "kernels/quant_internal.h"
#include "kernels/rows8.h"

namespace qwen3 {

namespace detail {
namespace {

Rows8Fn no_rows8(GgmlType) {
  return nullptr;
}
void quantize_q8_K_ref(const float* x, BlockQ8_K* y, int64_t n) {
  ref::quantize_q8_K(x, y, n);
}

// The kernel table of each level. AVX-VNNI and AVX-512 have their own rows8 kernels (the
// layout the model uses for Q4_0, Q8_0, Q4_K, Q5_K, Q6_K), AVX-512 its own activation
// quantizers; the plain-row tiles (F32, F16, BF16, Q4_1, Q5_0, Q5_1, and plain matrices
// of the rows8 types) are the AVX2 ones there. (A 16-lane float tile was tried and was
// slower than the AVX2 one on prompts: the prompt float tile is bound by activation
// traffic from L2, not by vector width.)
const IsaKernels kScalar{IsaLevel::Scalar, tile_ref, no_rows8, quantize_act_q8_ref,
                         quantize_q8_K_ref};
#if QWEN3_ARCH_X86
const IsaKernels kAvx2{IsaLevel::Avx2, tile_avx2, avx2::rows8_kernel, avx2::quantize_act_q8,
                       avx2::quantize_q8_K};
const IsaKernels kAvxVnni{IsaLevel::AvxVnni, tile_avx2, avxvnni::rows8_kernel,
                          avx2::quantize_act_q8, avx2::quantize_q8_K};
const IsaKernels kAvx512{IsaLevel::Avx512, tile_avx2, avx512::rows8_kernel, avx512::quantize_act_q8,
                         avx512::quantize_q8_K};
#endif
#if QWEN3_ARCH_ARM64
// NEON keeps the plain row layout (no rows8 kernels): its tiles decode each weight block
// once for up to 8 tokens.
const IsaKernels kNeon{IsaLevel::Neon, neon::tile, no_rows8, neon::quantize_act_q8,
                       neon::quantize_q8_K};
#endif

}  // namespace

const IsaKernels& isa_kernels(IsaLevel l) {
  switch (l) {
#if QWEN3_ARCH_X86
    case IsaLevel::Avx2:
      return kAvx2;
    case IsaLevel::AvxVnni:
      return kAvxVnni;
    case IsaLevel::Avx512:
      return kAvx512;
#endif
#if QWEN3_ARCH_ARM64
    case IsaLevel::Neon:
      return kNeon;
#endif
    default:
      return kScalar;
  }
}

}  // namespace detail

namespace {

// Work items: at least 16 rows (their weights are reused across all tokens from L1/L2),
// and about kItemsPerThread per thread: enough for a thread slowed by other load to hand
// work over, few enough that the shared counter (a cache line bouncing between cores)
// costs nothing next to the weights streamed per item.
constexpr int64_t kRowChunk = 16;
constexpr int64_t kItemsPerThread = 8;

void check(const WeightMatrix& W, const float* X, int64_t n_tok, const float* Y) {
  if (!kernels_support(W.type))
    throw std::invalid_argument("matmul: unsupported weight type " +
                                std::string(ggml_type_info(W.type).name));
  const int64_t bs = ggml_type_info(W.type).block_size;
  if (W.rows <= 0 || W.cols <= 0 || W.cols % bs != 0)
    throw std::invalid_argument("matmul: bad shape " + std::to_string(W.rows) + "x" +
                                std::to_string(W.cols) + " for " +
                                std::string(ggml_type_info(W.type).name));
  if (W.layout == WeightLayout::Rows8 && (!rows8_type(W.type) || W.rows % 8 != 0))
    throw std::invalid_argument("matmul: no rows8 layout for this matrix");
  if (n_tok < 0) throw std::invalid_argument("matmul: negative token count");
  if (n_tok > 0 && (W.data == nullptr || X == nullptr || Y == nullptr))
    throw std::invalid_argument("matmul: null pointer");
}

// Converts X to the activation format; returns its rows and sets their stride in bytes.
const void* prepare_activations(detail::ActFormat f, const float* X, int64_t n_tok, int64_t cols,
                                const detail::IsaKernels& k, ThreadPool* pool,
                                std::vector<uint8_t>& buf, size_t* stride) {
  *stride = detail::act_row_size(f, cols);
  if (f == detail::ActFormat::F32) return X;
  const size_t xs = *stride;
  if (buf.size() < xs * n_tok) buf.resize(xs * n_tok);
  uint8_t* base = buf.data();
  auto quant = [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) {
      const float* src = X + t * cols;
      void* dst = base + t * xs;
      if (f == detail::ActFormat::Q8)
        k.quantize_act_q8(src, static_cast<detail::ActQ8*>(dst), cols);
      else
        k.quantize_q8_K(src, static_cast<BlockQ8_K*>(dst), cols);
    }
  };
  if (pool != nullptr && n_tok >= 8)
    pool->parallel_for(n_tok, quant);
  else
    quant(0, n_tok, 0);
  return base;
}

// Rows8 matrices on the scalar path: each group is unpacked to plain rows first.
void rows8_tile_ref(const WeightMatrix& W, int64_t g0, int64_t g1, const void* xq, size_t xs,
                    int n_tok, float* Y) {
  const size_t ws = ggml_row_size(W.type, W.cols);
  const size_t gs = rows8_group_size(W.type, W.cols);
  thread_local std::vector<uint8_t> plain;
  if (plain.size() < 8 * ws) plain.resize(8 * ws);
  for (int64_t g = g0; g < g1; ++g) {
    unpack_rows8(W.type, static_cast<const uint8_t*>(W.data) + g * gs, W.cols, plain.data(), ws);
    detail::tile_ref(W.type)(W.cols, plain.data(), ws, 8, xq, xs, n_tok, Y + g * 8, W.rows);
  }
}

}  // namespace

void dequantize_matrix_row(const WeightMatrix& W, int64_t r, float* out) {
  if (r < 0 || r >= W.rows) throw std::out_of_range("dequantize_matrix_row: row out of range");
  const size_t ws = ggml_row_size(W.type, W.cols);
  if (W.layout == WeightLayout::Plain) {
    dequantize_row(W.type, static_cast<const uint8_t*>(W.data) + r * ws, out, W.cols);
    return;
  }
  thread_local std::vector<uint8_t> plain;
  if (plain.size() < 8 * ws) plain.resize(8 * ws);
  const size_t gs = rows8_group_size(W.type, W.cols);
  unpack_rows8(W.type, static_cast<const uint8_t*>(W.data) + (r / 8) * gs, W.cols, plain.data(),
               ws);
  dequantize_row(W.type, plain.data() + (r % 8) * ws, out, W.cols);
}

bool prefers_rows8(const WeightMatrix& W) {
  return detail::isa_kernels(isa_level()).rows8(W.type) != nullptr && rows8_type(W.type) &&
         W.rows % 8 == 0 && W.layout == WeightLayout::Plain;
}

size_t rows8_bytes(const WeightMatrix& W) {
  return rows8_group_size(W.type, W.cols) * static_cast<size_t>(W.rows / 8);
}

WeightMatrix to_rows8(const WeightMatrix& W, void* dst, ThreadPool& pool) {
  if (W.layout != WeightLayout::Plain || !rows8_type(W.type) || W.rows % 8 != 0)
    throw std::invalid_argument("to_rows8: matrix cannot take the rows8 layout");
  const size_t ws = ggml_row_size(W.type, W.cols);
  const size_t gs = rows8_group_size(W.type, W.cols);
  pool.parallel_for(W.rows / 8, [&](int64_t b, int64_t e, int) {
    for (int64_t g = b; g < e; ++g)
      pack_rows8(W.type, static_cast<const uint8_t*>(W.data) + g * 8 * ws, ws, W.cols,
                 static_cast<uint8_t*>(dst) + g * gs);
  });
  return WeightMatrix{W.type, W.rows, W.cols, dst, WeightLayout::Rows8};
}

void matmul(const WeightMatrix& W, const float* X, int64_t n_tok, float* Y, ThreadPool& pool) {
  check(W, X, n_tok, Y);
  if (n_tok == 0) return;
  const detail::IsaKernels& k = detail::isa_kernels(isa_level());
  const detail::ActFormat at = detail::act_format(W.type);
  thread_local std::vector<uint8_t> buf;
  size_t xs = 0;
  const void* xq = prepare_activations(at, X, n_tok, W.cols, k, &pool, buf, &xs);
  // Work items are handed out dynamically so a thread slowed by other load on the
  // machine takes fewer; each output is computed by exactly one kernel call, so the
  // result does not depend on the thread count.
  std::atomic<int64_t> next{0};
  if (W.layout == WeightLayout::Rows8) {
    const int64_t n_groups = W.rows / 8;
    // An even number of groups per item: the 512-bit kernels take groups in pairs.
    int64_t per_item = (n_groups + kItemsPerThread * pool.size() - 1) /
                       (kItemsPerThread * static_cast<int64_t>(pool.size()));
    per_item += per_item & 1;
    const int64_t n_items = (n_groups + per_item - 1) / per_item;
    const size_t gs = rows8_group_size(W.type, W.cols);
    const detail::Rows8Fn kernel = k.rows8(W.type);
    pool.parallel_for(pool.size(), [&](int64_t, int64_t, int) {
      for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < n_items;) {
        const int64_t g0 = c * per_item, g1 = std::min(n_groups, g0 + per_item);
        if (!kernel) {
          rows8_tile_ref(W, g0, g1, xq, xs, static_cast<int>(n_tok), Y);
          continue;
        }
        kernel(W.cols, static_cast<const uint8_t*>(W.data) + g0 * gs, gs, g1 - g0, xq, xs,
               static_cast<int>(n_tok), Y + g0 * 8, W.rows);
      }
    });
    return;
  }
  const detail::TileFn tile = k.tile(W.type);
  const size_t ws = ggml_row_size(W.type, W.cols);
  // Rows per item: a multiple of kRowChunk, about kItemsPerThread items per thread.
  const int64_t per_thread = (W.rows + kItemsPerThread * pool.size() - 1) /
                             (kItemsPerThread * static_cast<int64_t>(pool.size()));
  const int64_t chunk =
      std::max<int64_t>(kRowChunk, (per_thread + kRowChunk - 1) / kRowChunk * kRowChunk);
  const int64_t n_chunks = (W.rows + chunk - 1) / chunk;
  pool.parallel_for(pool.size(), [&](int64_t, int64_t, int) {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < n_chunks;) {
      const int64_t r0 = c * chunk;
      const int nr = static_cast<int>(std::min(chunk, W.rows - r0));
      tile(W.cols, static_cast<const uint8_t*>(W.data) + r0 * ws, ws, nr, xq, xs,
           static_cast<int>(n_tok), Y + r0, W.rows);
    }
  });
}

void matmul_ref(const WeightMatrix& W, const float* X, int64_t n_tok, float* Y) {
  check(W, X, n_tok, Y);
  if (n_tok == 0) return;
  const detail::ActFormat at = detail::act_format(W.type);
  std::vector<uint8_t> buf;
  size_t xs = 0;
  const void* xq = prepare_activations(at, X, n_tok, W.cols, detail::isa_kernels(IsaLevel::Scalar),
                                       nullptr, buf, &xs);
  if (W.layout == WeightLayout::Rows8) {
    rows8_tile_ref(W, 0, W.rows / 8, xq, xs, static_cast<int>(n_tok), Y);
    return;
  }
  const size_t ws = ggml_row_size(W.type, W.cols);
  detail::tile_ref(W.type)(W.cols, W.data, ws, static_cast<int>(W.rows), xq, xs,
                           static_cast<int>(n_tok), Y, W.rows);
}

}  // namespace qwen3
