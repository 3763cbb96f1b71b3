// The two small products of a LoRA update, y += s * B (A x), as the forward pass runs
// them: A rows (rank x in) dotted with the activations, and B stored transposed (rank x
// out) so that each output column is a run of multiply-adds with the rank broadcast
// values s * A x (no horizontal sums: a rank-16 row of B is too short for a dot product
// to pay). A and B^T are kept in F16 or BF16 when that holds the adapter's values exactly
// (adapters saved in F16 / BF16, the usual case: half the bytes read per token), else in
// F32; the sums are always in F32. A scalar reference and an AVX2 version (FMA, F16C),
// chosen by the kernels' ISA level; the tests compare them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gguf/ggml_types.h"

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

// The run-time copy of one projection (see LoraView): type, A (16-bit types only; F32
// uses the adapter's own A) and B^T.
struct LoraPacked {
  GgmlType type = GgmlType::F32;
  std::vector<uint16_t> a16, bt16;
  std::vector<float> bt32;
};

// The narrowest of F16, BF16, F32 that holds every value of a and b exactly; a (rank x in)
// and b (out x rank, row-major) packed in it. lossy_f16 (opt-in, set_lora_lossy_f16): F16
// whenever every value stays finite in F16, rounded to the nearest F16 value (about 3
// significant digits; half the bytes of F32 read per token), else the exact choice.
LoraPacked pack_lora(const std::vector<float>& a, const std::vector<float>& b, int rank, int in,
                     int out, bool lossy_f16 = false);
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
// The scalar reference (tests).
const LoraKernels& lora_kernels_ref();

namespace avx2 {
void lora_a(const LoraView& v, int k0, int k1, const float* x, int n, int64_t ldx, float s,
            float* ax, int ldax);
void lora_b(const LoraView& v, int c0, int c1, const float* ax, int n, int ldax, float* y,
            int64_t ldy);
}  // namespace avx2

}  // namespace qwen3
