#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "kernels/cpu_features.h"
#include "kernels/kernels_amx.h"
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

// The kernel table of each level. AVX-VNNI, AVX-512 and AMX have their own rows8 kernels (the
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
// AMX: the avx512 table with AMX-INT8 tiles in the rows8 kernels (prompt chunks), which
// read a call's activations packed once.
const PackedRows8 kAmxPacked{amx::kPackTokens, amx::rows8_packed_kernel, amx::packed_tile_bytes,
                             amx::pack_act_tile};
const IsaKernels kAmx{IsaLevel::Amx,         tile_avx2,  amx::rows8_kernel, avx512::quantize_act_q8,
                      avx512::quantize_q8_K, &kAmxPacked};
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
    case IsaLevel::Amx:
      return kAmx;
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

// One row of X in activation format f (not F32).
void quantize_act_row(detail::ActFormat f, const detail::IsaKernels& k, const float* src, void* dst,
                      int64_t cols) {
  if (f == detail::ActFormat::Q8)
    k.quantize_act_q8(src, static_cast<detail::ActQ8*>(dst), cols);
  else
    k.quantize_q8_K(src, static_cast<BlockQ8_K*>(dst), cols);
}

// Converts X to the activation format; returns its rows and sets their stride in bytes.
// convert = false: only sizes the buffer (the rows are converted later, one by one).
const void* prepare_activations(detail::ActFormat f, const float* X, int64_t n_tok, int64_t cols,
                                const detail::IsaKernels& k, ThreadPool* pool,
                                std::vector<uint8_t>& buf, size_t* stride, bool convert = true) {
  *stride = detail::act_row_size(f, cols);
  if (f == detail::ActFormat::F32) return X;
  const size_t xs = *stride;
  if (buf.size() < xs * n_tok) buf.resize(xs * n_tok);
  uint8_t* base = buf.data();
  if (!convert) return base;
  auto quant = [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) quantize_act_row(f, k, X + t * cols, base + t * xs, cols);
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

namespace {

// One matrix's share of a matmul_multi call: its rows split into work items.
struct Part {
  const WeightMatrix* W;
  float* Y;
  const void* xq;  // X in the matrix's activation format
  size_t xs;
  int64_t n_items, per_item;  // rows8: groups per item; plain: rows per item
  size_t stride;              // rows8: bytes per group; plain: bytes per row
  detail::Rows8Fn rows8;
  detail::TileFn tile;
  // Calls that pack (IsaKernels::packed): the kernel that reads the call's shared copy.
  detail::Rows8PackedFn rows8_packed = nullptr;
  const void* packed = nullptr;
};

int64_t round_up(int64_t v, int64_t unit) {
  return (v + unit - 1) / unit * unit;
}
int64_t gcd64(int64_t a, int64_t b) {
  while (b != 0) a = std::exchange(b, a % b);
  return a;
}
int64_t lcm64(int64_t a, int64_t b) {
  return a / gcd64(a, b) * b;
}

// Work items of W: rows8 groups per item, or plain rows per item. About kItemsPerThread
// per thread, grown to whole multiples of row_align rows when asked.
int64_t item_size(const WeightMatrix& W, int threads, int64_t row_align) {
  const int64_t spread = kItemsPerThread * static_cast<int64_t>(std::max(1, threads));
  if (W.layout == WeightLayout::Rows8) {
    const int64_t n_groups = W.rows / 8;
    // An even number of groups per item: the 512-bit kernels take groups in pairs.
    int64_t unit = 2;
    if (row_align > 0) {
      if (row_align % 8 != 0)
        throw std::invalid_argument(
            "matmul_multi: row_align of a rows8 matrix must be a multiple of 8");
      unit = lcm64(2, row_align / 8);
    }
    return round_up((n_groups + spread - 1) / spread, unit);
  }
  // Rows per item: a multiple of kRowChunk.
  const int64_t unit = row_align > 0 ? lcm64(kRowChunk, row_align) : kRowChunk;
  const int64_t per_thread = (W.rows + spread - 1) / spread;
  return std::max<int64_t>(unit, round_up(per_thread, unit));
}

// Plans W's work items: about kItemsPerThread per thread.
void plan(Part& p, const detail::IsaKernels& k, int threads, int64_t row_align) {
  const WeightMatrix& W = *p.W;
  if (W.layout == WeightLayout::Rows8) {
    const int64_t n_groups = W.rows / 8;
    const int64_t per_item = item_size(W, threads, row_align);
    p.per_item = per_item;
    p.n_items = (n_groups + per_item - 1) / per_item;
    p.stride = rows8_group_size(W.type, W.cols);
    p.rows8 = k.rows8(W.type);
    p.tile = nullptr;
    return;
  }
  p.per_item = item_size(W, threads, row_align);
  p.n_items = (W.rows + p.per_item - 1) / p.per_item;
  p.stride = ggml_row_size(W.type, W.cols);
  p.rows8 = nullptr;
  p.tile = k.tile(W.type);
}

// Runs work item c of p; sets [*r0, *r1) to the rows of Y it wrote.
void run_item(const Part& p, int64_t c, int n_tok, int64_t* r0, int64_t* r1) {
  const WeightMatrix& W = *p.W;
  const auto* base = static_cast<const uint8_t*>(W.data);
  if (W.layout == WeightLayout::Rows8) {
    const int64_t g0 = c * p.per_item, g1 = std::min(W.rows / 8, g0 + p.per_item);
    *r0 = g0 * 8;
    *r1 = g1 * 8;
    if (!p.rows8) {
      rows8_tile_ref(W, g0, g1, p.xq, p.xs, n_tok, p.Y);
      return;
    }
    if (p.rows8_packed) {
      p.rows8_packed(W.cols, base + g0 * p.stride, p.stride, g1 - g0, p.xq, p.xs, n_tok, p.packed,
                     p.Y + g0 * 8, W.rows);
      return;
    }
    p.rows8(W.cols, base + g0 * p.stride, p.stride, g1 - g0, p.xq, p.xs, n_tok, p.Y + g0 * 8,
            W.rows);
    return;
  }
  const int64_t first = c * p.per_item;
  const int nr = static_cast<int>(std::min(p.per_item, W.rows - first));
  *r0 = first;
  *r1 = first + nr;
  p.tile(W.cols, base + first * p.stride, p.stride, nr, p.xq, p.xs, n_tok, p.Y + first, W.rows);
}

// Waits until `done` reaches n (the prep or pre items of a MatmulExtra, claimed before
// any item that waits for them, so each is finished or running on a thread that is not
// waiting: no deadlock). The items take microseconds: pause-spin for a while (~20 us)
// before yielding, as a yield on a busy machine can hand the core away for a time slice.
void wait_for(const std::atomic<int64_t>& done, int64_t n) {
  for (int spin = 0; done.load(std::memory_order_acquire) < n; ++spin) {
    if (spin < 2000) {
#if defined(__x86_64__) || defined(__i386__)
      _mm_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

constexpr int kMaxMulti = 4;

// Item ranges of matmul_multi: [lo, hi) in one word, so that a thread taking from the
// front and one taking from the back never hand out the same item.
constexpr int kMaxRanges = 64;
std::atomic<bool> g_split_ranges{true};  // set_matmul_split_ranges
constexpr uint64_t pack_range(int64_t lo, int64_t hi) {
  return static_cast<uint64_t>(hi) << 32 | static_cast<uint64_t>(lo);
}
constexpr int64_t range_lo(uint64_t v) {
  return static_cast<int64_t>(v & 0xffffffffu);
}
constexpr int64_t range_hi(uint64_t v) {
  return static_cast<int64_t>(v >> 32);
}

}  // namespace

int64_t matmul_item_rows(const WeightMatrix& W, int threads, int64_t row_align) {
  const int64_t n = item_size(W, threads, row_align);
  return W.layout == WeightLayout::Rows8 ? n * 8 : n;
}

void matmul(const WeightMatrix& W, const float* X, int64_t n_tok, float* Y, ThreadPool& pool) {
  const WeightMatrix* Ws[] = {&W};
  float* Ys[] = {Y};
  matmul_multi(Ws, Ys, 1, X, n_tok, pool);
}

void matmul_multi(const WeightMatrix* const* W, float* const* Y, int n_mat, const float* X,
                  int64_t n_tok, ThreadPool& pool) {
  matmul_multi(W, Y, n_mat, X, n_tok, pool, MatmulExtra{});
}

void matmul_multi(const WeightMatrix* const* W, float* const* Y, int n_mat, const float* X,
                  int64_t n_tok, ThreadPool& pool, const MatmulExtra& extra) {
  if (n_mat < 1 || n_mat > kMaxMulti)
    throw std::invalid_argument("matmul_multi: 1.." + std::to_string(kMaxMulti) + " matrices");
  for (int i = 0; i < n_mat; ++i) {
    check(*W[i], X, n_tok, Y[i]);
    if (W[i]->cols != W[0]->cols)
      throw std::invalid_argument("matmul_multi: the matrices differ in columns");
  }
  if (n_tok == 0) return;
  const detail::IsaKernels& k = detail::isa_kernels(isa_level());
  // X converted once per activation format among the matrices (Q/K/V or gate/up of one
  // model share one, except in mixes such as Q8_0 with K-quants).
  thread_local std::vector<uint8_t> bufs[kMaxMulti];
  detail::ActFormat formats[kMaxMulti];
  const void* xq[kMaxMulti];
  size_t xs[kMaxMulti];
  int n_formats = 0;
  Part parts[kMaxMulti];
  int64_t n_items = 0;
  thread_local std::vector<uint8_t> packed_bufs[kMaxMulti];
  bool pack_format[kMaxMulti] = {};
  uint8_t* packed[kMaxMulti] = {};  // the buffers' data (the workers' own thread_local differ)
  for (int i = 0; i < n_mat; ++i) {
    const detail::ActFormat f = detail::act_format(W[i]->type);
    int j = 0;
    while (j < n_formats && formats[j] != f) ++j;
    if (j == n_formats) {
      formats[j] = f;
      xq[j] = prepare_activations(f, X, n_tok, W[i]->cols, k, &pool, bufs[j], &xs[j],
                                  extra.prep == nullptr);
      ++n_formats;
    }
    Part& p = parts[i];
    p.W = W[i];
    p.Y = Y[i];
    p.xq = xq[j];
    p.xs = xs[j];
    plan(p, k, pool.size(), extra.row_align);
    n_items += p.n_items;
    // Levels whose kernels read packed activations (the amx prompt path): those of this
    // format are packed once per call (pack items below), shared by every item of every
    // matrix using them.
    if (k.packed && n_tok >= k.packed->tile_tokens && p.rows8 != nullptr &&
        (p.rows8_packed = k.packed->rows8(W[i]->type)) != nullptr) {
      if (!pack_format[j]) {
        pack_format[j] = true;
        // 64-byte aligned: an A tile row (32 bytes) then never straddles two lines.
        const size_t bytes = k.packed->tile_bytes(f, W[i]->cols) *
                             static_cast<size_t>(n_tok / k.packed->tile_tokens);
        if (packed_bufs[j].size() < bytes + 64) packed_bufs[j].resize(bytes + 64);
        const auto addr = reinterpret_cast<uintptr_t>(packed_bufs[j].data());
        packed[j] = packed_bufs[j].data() + ((64 - addr % 64) % 64);
      }
      p.packed = packed[j];
    }
  }
  // Pack items: (format, packed tile) pairs, after the prep items.
  int pack_formats[kMaxMulti];
  int n_pack_formats = 0;
  for (int j = 0; j < n_formats; ++j)
    if (pack_format[j]) pack_formats[n_pack_formats++] = j;
  const int64_t pack_tiles = n_pack_formats > 0 ? n_tok / k.packed->tile_tokens : 0;
  const int64_t n_pack = n_pack_formats * pack_tiles;
  // Work items of all the matrices are handed out dynamically, so a thread slowed by
  // other load on the machine takes fewer; each output is computed by exactly one kernel
  // call, so the result depends neither on the thread count nor on which matrices share
  // the call, nor on which thread ran an item. The matrix items (all matrices' items in
  // a row) start split into one contiguous range per piece of the pass: each thread
  // streams its own range front to back, and a thread whose range is empty takes the back
  // half of the fullest other range as its own (forward again: a thread taking single
  // items from the back streamed ~5 % slower than the shared counter when another
  // process held one of the 2 cores). (Handed out from one shared counter, the
  // two threads read neighbouring items in turn, ~73 KB each for a 0.6B Q4_0 matrix,
  // which streams slower from DRAM: session 14, see ranges below.)
  // The extra pre items come first from a shared counter; a post call waits for them all.
  // Before them, the prep items (one per token: X's row, then its conversions).
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> pre_done{0}, prep_done{0}, pack_done{0};
  const int64_t n_pre = extra.pre ? extra.n_pre : 0;
  const int64_t n_prep = extra.prep ? n_tok : 0;
  const int nt = static_cast<int>(n_tok);
  const int64_t cols = W[0]->cols;
  // Counted as done even if it throws, so that no thread waits forever.
  struct Done {
    std::atomic<int64_t>& n;
    ~Done() { n.fetch_add(1, std::memory_order_release); }
  };
  // Ranges of matrix items, [lo, hi) packed as hi << 32 | lo: one per piece (a single
  // shared one beyond kMaxRanges pieces).
  std::atomic<uint64_t> ranges[kMaxRanges];
  const int n_ranges = pool.size() <= kMaxRanges && g_split_ranges.load(std::memory_order_relaxed)
                           ? std::max(1, pool.size())
                           : 1;
  for (int r = 0; r < n_ranges; ++r)
    ranges[r].store(pack_range(n_items * r / n_ranges, n_items * (r + 1) / n_ranges),
                    std::memory_order_relaxed);
  auto claim = [&](int piece) -> int64_t {
    std::atomic<uint64_t>& own = ranges[piece % n_ranges];
    for (;;) {
      for (uint64_t v = own.load(std::memory_order_relaxed); range_lo(v) < range_hi(v);)
        if (own.compare_exchange_weak(v, v + 1, std::memory_order_relaxed)) return range_lo(v);
      // Own range empty: take the back half of the fullest range as the new own range,
      // so that this thread streams forward through it too.
      int best = -1;
      int64_t most = 0;
      for (int r = 0; r < n_ranges; ++r) {
        const uint64_t v = ranges[r].load(std::memory_order_relaxed);
        if (range_hi(v) - range_lo(v) > most) {
          most = range_hi(v) - range_lo(v);
          best = r;
        }
      }
      if (best < 0) return -1;
      std::atomic<uint64_t>& other = ranges[best];
      for (uint64_t v = other.load(std::memory_order_relaxed); range_lo(v) < range_hi(v);) {
        const int64_t lo = range_lo(v), hi = range_hi(v), mid = lo + (hi - lo) / 2;
        if (other.compare_exchange_weak(v, pack_range(lo, mid), std::memory_order_relaxed)) {
          // Items [mid, hi) are this thread's now: it runs mid, the rest becomes its range
          // (empty until now, so nobody else writes it meanwhile).
          own.store(pack_range(mid + 1, hi), std::memory_order_relaxed);
          return mid;
        }
      }
    }
  };
  pool.parallel_for(pool.size(), [&](int64_t, int64_t, int piece) {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < n_prep + n_pack + n_pre;) {
      if (c < n_prep) {
        Done done{prep_done};
        extra.prep(extra.prep_ctx, c);
        for (int j = 0; j < n_formats; ++j)
          if (formats[j] != detail::ActFormat::F32)
            quantize_act_row(formats[j], k, X + c * cols,
                             static_cast<uint8_t*>(const_cast<void*>(xq[j])) + c * xs[j], cols);
        continue;
      }
      c -= n_prep;
      if (c < n_pack) {
        // Reads the converted rows of its tokens: waits for every prep item.
        wait_for(prep_done, n_prep);
        Done done{pack_done};
        const int j = pack_formats[c / pack_tiles];
        k.packed->pack_tile(formats[j], cols, xq[j], xs[j], static_cast<int>(c % pack_tiles),
                            packed[j]);
        continue;
      }
      c -= n_pack;
      wait_for(prep_done, n_prep);
      Done done{pre_done};
      extra.pre(extra.ctx, c);
    }
    // Every prep and pack item is claimed by now (finished or running on a thread that
    // does not wait, or waits only for prep items), so waiting here cannot deadlock.
    wait_for(prep_done, n_prep);
    wait_for(pack_done, n_pack);
    for (int64_t c; (c = claim(piece)) >= 0;) {
      int i = 0;
      while (c >= parts[i].n_items) c -= parts[i++].n_items;
      int64_t r0 = 0, r1 = 0;
      run_item(parts[i], c, nt, &r0, &r1);
      if (extra.post) {
        wait_for(pre_done, n_pre);
        extra.post(extra.ctx, i, r0, r1);
      }
    }
  });
}

void set_matmul_split_ranges(bool on) {
  g_split_ranges.store(on, std::memory_order_relaxed);
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
