// LoRA run-time matrices: packing (F16 / BF16 when exact, B transposed), the scalar
// reference kernels and the choice of kernels by ISA level (see lora_kernels.h).
#include "model/lora_kernels.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu_features.h"
#include "kernels/fp16.h"

namespace qwen3 {

namespace {

bool all_exact(const std::vector<float>& v, uint16_t (*to)(float), float (*from)(uint16_t)) {
  for (float f : v) {
    const float r = from(to(f));
    // Bitwise: -0.0 and NaN payloads must survive too (NaN never compares equal).
    if (r != f || std::signbit(r) != std::signbit(f)) return false;
  }
  return true;
}

// Every value finite and still finite once rounded to F16 (|v| < 65520).
bool all_finite_f16(const std::vector<float>& v) {
  for (float f : v)
    if (!std::isfinite(fp16_to_fp32(fp32_to_fp16(f)))) return false;
  return true;
}

inline float load(GgmlType t, const void* p, size_t i) {
  switch (t) {
    case GgmlType::F16:
      return fp16_to_fp32(static_cast<const uint16_t*>(p)[i]);
    case GgmlType::BF16:
      return bf16_to_fp32(static_cast<const uint16_t*>(p)[i]);
    default:
      return static_cast<const float*>(p)[i];
  }
}

void ref_a(const LoraView& v, int k0, int k1, const float* x, int n, int64_t ldx, float s,
           float* ax, int ldax) {
  for (int t = 0; t < n; ++t)
    for (int k = k0; k < k1; ++k) {
      const size_t row = static_cast<size_t>(k) * static_cast<size_t>(v.in);
      float sum = 0.0f;
      for (int i = 0; i < v.in; ++i) sum += load(v.type, v.a, row + i) * x[t * ldx + i];
      ax[static_cast<size_t>(t) * ldax + k] = s * sum;
    }
}

void ref_b(const LoraView& v, int c0, int c1, const float* ax, int n, int ldax, float* y,
           int64_t ldy) {
  for (int t = 0; t < n; ++t)
    for (int c = c0; c < c1; ++c) {
      float sum = 0.0f;
      for (int k = 0; k < v.rank; ++k)
        sum +=
            ax[static_cast<size_t>(t) * ldax + k] * load(v.type, v.bt, lora_bt_index(v.rank, k, c));
      y[t * ldy + c] += sum;
    }
}

// A (unless pa is null) and B^T (lora_bt_index order) into pa / pb, each value through to.
template <class E, class To>
void write_packed(const std::vector<float>& a, const std::vector<float>& b, int rank, int out,
                  E* pa, E* pb, To to) {
  if (pa)
    for (size_t i = 0; i < a.size(); ++i) pa[i] = to(a[i]);
  const size_t r = static_cast<size_t>(rank);
  for (int c = 0; c < out; ++c)
    for (int k = 0; k < rank; ++k)
      pb[lora_bt_index(rank, k, c)] = to(b[static_cast<size_t>(c) * r + static_cast<size_t>(k)]);
}

const LoraKernels kRef{ref_a, ref_b};

}  // namespace

void* LoraArena::alloc(size_t bytes) {
  constexpr size_t kHuge = size_t(2) << 20, kFirst = size_t(256) << 10,
                   kMaxChunk = size_t(32) << 20;
  bytes = (bytes + 63) / 64 * 64;
  if (chunks_.empty() || chunks_.back().size - chunks_.back().used < bytes) {
    // Chunks grow 4x from 256 KiB to 32 MiB: a small adapter (tests, fuzzers) costs no
    // huge page, a large one has all but its first 1.25 MiB in huge pages.
    const size_t grow = chunks_.empty() ? kFirst : std::min(kMaxChunk, 4 * chunks_.back().size);
    Chunk c;
    c.size = std::max(grow, bytes);
    if (c.size >= kHuge) {
      c.size = (c.size + kHuge - 1) / kHuge * kHuge;
      c.mem.reset(new uint8_t[c.size + kHuge]);
      const uintptr_t lo = (reinterpret_cast<uintptr_t>(c.mem.get()) + kHuge - 1) / kHuge * kHuge;
      c.begin = reinterpret_cast<uint8_t*>(lo);
#ifdef MADV_HUGEPAGE
      madvise(c.begin, c.size, MADV_HUGEPAGE);
#endif
    } else {
      c.mem.reset(new uint8_t[c.size + 64]);
      c.begin =
          reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(c.mem.get()) + 63) / 64 * 64);
    }
    chunks_.push_back(std::move(c));
  }
  Chunk& c = chunks_.back();
  uint8_t* p = c.begin + c.used;
  c.used += bytes;
  std::memset(p, 0, bytes);
  return p;
}

LoraPacked pack_lora(const std::vector<float>& a, const std::vector<float>& b, int rank, int in,
                     int out, bool lossy_f16, LoraArena* arena) {
  LoraPacked p;
  uint16_t (*to)(float) = nullptr;
  if ((all_exact(a, fp32_to_fp16, fp16_to_fp32) && all_exact(b, fp32_to_fp16, fp16_to_fp32)) ||
      (lossy_f16 && all_finite_f16(a) && all_finite_f16(b))) {
    p.type = GgmlType::F16;
    to = fp32_to_fp16;
  } else if (all_exact(a, fp32_to_bf16, bf16_to_fp32) && all_exact(b, fp32_to_bf16, bf16_to_fp32)) {
    p.type = GgmlType::BF16;
    to = fp32_to_bf16;
  }
  (void)in;
  const size_t bt_n = lora_bt_size(rank, out);
  const auto same = [](float f) { return f; };
  if (arena) {  // zeroed memory: B^T's padding columns stay 0
    const size_t es = to ? sizeof(uint16_t) : sizeof(float);
    void* pa = arena->alloc(a.size() * es);
    void* pb = arena->alloc(bt_n * es);
    if (to)
      write_packed(a, b, rank, out, static_cast<uint16_t*>(pa), static_cast<uint16_t*>(pb), to);
    else
      write_packed(a, b, rank, out, static_cast<float*>(pa), static_cast<float*>(pb), same);
    p.a = pa;
    p.bt = pb;
    return p;
  }
  if (to) {
    p.a16.resize(a.size());
    p.bt16.assign(bt_n, 0);
    write_packed(a, b, rank, out, p.a16.data(), p.bt16.data(), to);
  } else {  // F32 without an arena: the adapter's own A serves (lora_view's a_f32)
    p.bt32.assign(bt_n, 0.0f);
    write_packed(a, b, rank, out, static_cast<float*>(nullptr), p.bt32.data(), same);
  }
  return p;
}

LoraView lora_view(const LoraPacked& p, const float* a_f32, int rank, int in, int out,
                   float scale) {
  LoraView v;
  v.type = p.type;
  v.rank = rank;
  v.in = in;
  v.out = out;
  v.scale = scale;
  if (p.bt) {
    v.a = p.a;
    v.bt = p.bt;
  } else if (p.type == GgmlType::F32) {
    v.a = a_f32;
    v.bt = p.bt32.data();
  } else {
    v.a = p.a16.data();
    v.bt = p.bt16.data();
  }
  return v;
}

const LoraKernels& lora_kernels_ref() {
  return kRef;
}

const LoraKernels& lora_kernels_at(IsaLevel l) {
#if QWEN3_ARCH_X86
  if (avx512_family(l)) return avx512::kLoraKernels;
  if (l == IsaLevel::Avx2 || l == IsaLevel::AvxVnni) return avx2::kLoraKernels;
#else
  (void)l;
#endif
  return kRef;
}

const LoraKernels& lora_kernels() {
  return lora_kernels_at(isa_level());
}

}  // namespace qwen3
