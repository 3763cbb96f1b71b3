// The two small products of a LoRA update, y += s * B (A x), as the forward pass runs
// them: A rows (rank x in) dotted with the activations, and B stored transposed (rank x
// out) so that each output column is a run of multiply-adds with the rank broadcast
// values s * A x (no horizontal sums: a rank-16 row of B is too short for a dot product
// to pay). A and B^T are kept in F16 or BF16 when that holds the adapter's values exactly
// (adapters saved in F16 / BF16, the usual case: half the bytes read per token), else in
// F32; the sums are always in F32. A scalar reference, an AVX2 version (FMA, F16C) and an
// AVX-512 one (prefetching its streams), chosen by the kernels' ISA level; the tests
// compare them. The matrices live in huge pages (LoraArena).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "gguf/ggml_types.h"
#include "kernels/cpu_features.h"

namespace qwen3 {

// One projection's matrices in their run-time form (pointers into a LoraPacked or the
// adapter's F32 A).
// B^T is stored in blocks of kLoraCols output columns: block j holds rank rows of the
// kLoraCols values of columns j * kLoraCols ..., so the kernel reads B as one sequential
// stream (rank rows of B^T `out` values apart put each column block's values on rank
// different pages, which the prefetchers do not follow). The last block is zero-padded.
constexpr int kLoraCols = 32;
inline size_t lora_bt_index(int rank, int k, int c) {
  return (static_cast<size_t>(c / kLoraCols) * static_cast<size_t>(rank) + static_cast<size_t>(k)) *
             kLoraCols +
         static_cast<size_t>(c % kLoraCols);
}
inline size_t lora_bt_size(int rank, int out) {
  return lora_bt_index(rank, 0, (out + kLoraCols - 1) / kLoraCols * kLoraCols);
}

struct LoraView {
  GgmlType type = GgmlType::F32;  // F32, F16 or BF16, for both a and bt
  int rank = 0, in = 0, out = 0;
  float scale = 1.0f;
  const void* a = nullptr;   // rank rows of `in` values
  const void* bt = nullptr;  // B transposed, in column blocks (lora_bt_index)
};

// Memory for the run-time copies of an adapter's matrices: chunks growing from 256 KiB,
// those of 2 MiB and more on 2 MiB boundaries advised as transparent huge pages (the
// model's weights are in huge pages too). The
// decode reads every byte of an adapter once per token, in pieces of a few KiB spread
// over tens of MiB: in 4 KiB pages that is a TLB miss per page and a stream the hardware
// prefetchers drop at every page boundary, which made the adapter's bytes about twice as
// slow to read as the base's. Blocks are 64-byte aligned, zeroed, and never move; they
// live as long as the arena.
class LoraArena {
 public:
  void* alloc(size_t bytes);

 private:
  struct Chunk {
    std::unique_ptr<uint8_t[]> mem;
    uint8_t* begin = nullptr;
    size_t size = 0, used = 0;
  };
  std::vector<Chunk> chunks_;
};

// The run-time copy of one projection (see LoraView): type, A and B^T. Packed into an
// arena: `a` and `bt` point there (A too in F32). Without one: the vectors hold A (16-bit
// types only; F32 uses the adapter's own A) and B^T.
struct LoraPacked {
  GgmlType type = GgmlType::F32;
  std::vector<uint16_t> a16, bt16;
  std::vector<float> bt32;
  const void* a = nullptr;
  const void* bt = nullptr;
};

// The narrowest of F16, BF16, F32 that holds every value of a and b exactly; a (rank x in)
// and b (out x rank, row-major) packed in it. lossy_f16 (opt-in, set_lora_lossy_f16): F16
// whenever every value stays finite in F16, rounded to the nearest F16 value (about 3
// significant digits; half the bytes of F32 read per token), else the exact choice.
LoraPacked pack_lora(const std::vector<float>& a, const std::vector<float>& b, int rank, int in,
                     int out, bool lossy_f16 = false, LoraArena* arena = nullptr);
LoraView lora_view(const LoraPacked& p, const float* a_f32, int rank, int in, int out, float scale);

// ax[t * ldax + k] = s * dot(A row k, x row t) for k in [k0, k1), t < n.
using LoraAFn = void (*)(const LoraView& v, int k0, int k1, const float* x, int n, int64_t ldx,
                         float s, float* ax, int ldax);
// y[t * ldy + c] += sum over k < rank of ax[t * ldax + k] * B^T[k][c], c in [c0, c1), t < n
// (any range: a column's result does not depend on the range it was computed in).
using LoraBFn = void (*)(const LoraView& v, int c0, int c1, const float* ax, int n, int ldax,
                         float* y, int64_t ldy);

struct LoraKernels {
  LoraAFn a;
  LoraBFn b;
};
// The kernels of the current ISA level (kernels/cpu_features.h).
const LoraKernels& lora_kernels();
// The kernels a level runs: scalar, AVX2 (also for avx_vnni) or AVX-512 (tests, to check
// every level this CPU has).
const LoraKernels& lora_kernels_at(IsaLevel l);
// The scalar reference (tests).
const LoraKernels& lora_kernels_ref();

// Calls f(std::integral_constant<GgmlType, T>{}) with T the element type the SIMD
// kernels are compiled for: F16, BF16, else F32 (one dispatch for every level).
template <class F>
void with_lora_type(GgmlType t, F&& f) {
  switch (t) {
    case GgmlType::F16:
      return f(std::integral_constant<GgmlType, GgmlType::F16>{});
    case GgmlType::BF16:
      return f(std::integral_constant<GgmlType, GgmlType::BF16>{});
    default:
      return f(std::integral_constant<GgmlType, GgmlType::F32>{});
  }
}

// Each x86 level's kernels (lora_kernels_avx2.cpp, lora_kernels_avx512.cpp).
namespace avx2 {
extern const LoraKernels kLoraKernels;
}
namespace avx512 {
extern const LoraKernels kLoraKernels;
}

}  // namespace qwen3
