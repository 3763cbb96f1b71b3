// Scalar reference dot products of one weight row with one activation row, mirroring
// the integer arithmetic of ggml's generic ggml_vec_dot_*.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <utility>

#include "kernels/fp16.h"
#include "kernels/matmul_internal.h"
#include "kernels/quant.h"
#include "kernels/type_table.h"

namespace qwen3::detail {
namespace {

float dot_q4_0(int64_t n, const BlockQ4_0* w, const ActQ8* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK / 2; ++j)
      sumi += ((w[i].qs[j] & 0x0F) - 8) * x[i].qs[j] + ((w[i].qs[j] >> 4) - 8) * x[i].qs[j + 16];
    sum += sumi * (fp16_to_fp32(w[i].d) * x[i].d);
  }
  return sum;
}

float dot_q4_1(int64_t n, const BlockQ4_1* w, const ActQ8* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK / 2; ++j)
      sumi += (w[i].qs[j] & 0x0F) * x[i].qs[j] + (w[i].qs[j] >> 4) * x[i].qs[j + 16];
    sum += sumi * (fp16_to_fp32(w[i].d) * x[i].d) + fp16_to_fp32(w[i].m) * (x[i].d * x[i].sum);
  }
  return sum;
}

template <typename B>
int q5_dot_int(const B& w, const int8_t* xq, int offset) {
  uint32_t qh;
  std::memcpy(&qh, w.qh, 4);
  int sumi = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10;
    const int h1 = (qh >> (j + 12)) & 0x10;
    sumi +=
        (((w.qs[j] & 0x0F) | h0) - offset) * xq[j] + (((w.qs[j] >> 4) | h1) - offset) * xq[j + 16];
  }
  return sumi;
}

float dot_q5_0(int64_t n, const BlockQ5_0* w, const ActQ8* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i)
    sum += q5_dot_int(w[i], x[i].qs, 16) * (fp16_to_fp32(w[i].d) * x[i].d);
  return sum;
}

float dot_q5_1(int64_t n, const BlockQ5_1* w, const ActQ8* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i)
    sum += q5_dot_int(w[i], x[i].qs, 0) * (fp16_to_fp32(w[i].d) * x[i].d) +
           fp16_to_fp32(w[i].m) * (x[i].d * x[i].sum);
  return sum;
}

float dot_q8_0(int64_t n, const BlockQ8_0* w, const ActQ8* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK; ++j) sumi += w[i].qs[j] * x[i].qs[j];
    sum += sumi * (fp16_to_fp32(w[i].d) * x[i].d);
  }
  return sum;
}

// Q4_K / Q5_K: sum over sub-blocks of scale*dot(q, q8) minus min*sum(q8).
template <bool kFive, typename B>
float dot_qk_asym(int64_t n, const B* w, const BlockQ8_K* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int32_t sumi = 0, summ = 0;
    const uint8_t* q = w[i].qs;
    const int8_t* q8 = x[i].qs;
    for (int j = 0; j < kQK_K / 32; ++j) {
      uint8_t sc, m;
      get_scale_min_k4(j, w[i].scales, &sc, &m);
      const int shift = (j & 1) * 4;
      const uint8_t* qj = q + (j / 2) * 32;
      int dot = 0;
      for (int l = 0; l < 32; ++l) {
        int v = (qj[l] >> shift) & 0xF;
        if constexpr (kFive) v += ((w[i].qh[l] >> j) & 1) << 4;
        dot += v * q8[j * 32 + l];
      }
      sumi += sc * dot;
      summ += m * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
    }
    sum += fp16_to_fp32(w[i].d) * x[i].d * sumi - fp16_to_fp32(w[i].dmin) * x[i].d * summ;
  }
  return sum;
}

float dot_q6_K(int64_t n, const BlockQ6_K* w, const BlockQ8_K* x) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];
    const uint8_t* ql = w[i].ql;
    const uint8_t* qh = w[i].qh;
    for (int n0 = 0; n0 < kQK_K; n0 += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        q[n0 + l + 0] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        q[n0 + l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        q[n0 + l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        q[n0 + l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int32_t sumi = 0;
    for (int g = 0; g < kQK_K / 16; ++g) {
      int dot = 0;
      for (int l = 0; l < 16; ++l) dot += q[g * 16 + l] * x[i].qs[g * 16 + l];
      sumi += w[i].scales[g] * dot;
    }
    sum += fp16_to_fp32(w[i].d) * x[i].d * sumi;
  }
  return sum;
}

template <float (*Conv)(uint16_t)>
float dot_half(int64_t n, const uint16_t* w, const float* x) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += Conv(w[i]) * x[i];
  return sum;
}

float dot_f32(int64_t n, const float* w, const float* x) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += w[i] * x[i];
  return sum;
}

// The dot products on untyped rows, by weight type.
using DotFn = float (*)(int64_t n, const void* w, const void* x);
template <class W, class X>
float call(float (*f)(int64_t, const W*, const X*), int64_t n, const void* w, const void* x) {
  return f(n, static_cast<const W*>(w), static_cast<const X*>(x));
}
template <auto F>
float dot(int64_t n, const void* w, const void* x) {
  return call(F, n, w, x);
}
constexpr TypedFn<DotFn> kDots[] = {
    {GgmlType::F32, dot<dot_f32>},
    {GgmlType::F16, dot<dot_half<fp16_to_fp32>>},
    {GgmlType::BF16, dot<dot_half<bf16_to_fp32>>},
    {GgmlType::Q4_0, dot<dot_q4_0>},
    {GgmlType::Q4_1, dot<dot_q4_1>},
    {GgmlType::Q5_0, dot<dot_q5_0>},
    {GgmlType::Q5_1, dot<dot_q5_1>},
    {GgmlType::Q8_0, dot<dot_q8_0>},
    {GgmlType::Q4_K, dot<dot_qk_asym<false, BlockQ4_K>>},
    {GgmlType::Q5_K, dot<dot_qk_asym<true, BlockQ5_K>>},
    {GgmlType::Q6_K, dot<dot_q6_K>},
};

template <GgmlType T>
void tile_generic(int64_t n, const void* w, size_t ws, int nr, const void* x, size_t xs, int nt,
                  float* y, int64_t ldy) {
  constexpr DotFn kDot = find_fn(kDots, T);
  for (int t = 0; t < nt; ++t)
    for (int r = 0; r < nr; ++r)
      y[t * ldy + r] =
          kDot(n, static_cast<const char*>(w) + r * ws, static_cast<const char*>(x) + t * xs);
}

}  // namespace

ActFormat act_format(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q8_0:
      return ActFormat::Q8;
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return ActFormat::Q8K;
    default:
      return ActFormat::F32;
  }
}

size_t act_row_size(ActFormat f, int64_t cols) {
  switch (f) {
    case ActFormat::Q8:
      return static_cast<size_t>(cols / kQK) * sizeof(ActQ8);
    case ActFormat::Q8K:
      return static_cast<size_t>(cols / kQK_K) * sizeof(BlockQ8_K);
    default:
      return static_cast<size_t>(cols) * sizeof(float);
  }
}

void quantize_act_q8_ref(const float* x, ActQ8* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0.f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = amax != 0.f ? 127.f / amax : 0.f;
    y[i].d = d;
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::nearbyint(x[j] * id));
      sum += y[i].qs[j];
    }
    y[i].sum = sum;
  }
}

void quantize_act_ref(ActFormat f, const float* x, void* y, int64_t cols) {
  if (f == ActFormat::Q8) return quantize_act_q8_ref(x, static_cast<ActQ8*>(y), cols);
  if (f == ActFormat::Q8K) return quantize_row_ref(GgmlType::Q8_K, x, y, cols);
  std::memcpy(y, x, cols * sizeof(float));
}

float vec_dot_ref(GgmlType t, int64_t n, const void* w, const void* x) {
  const DotFn f = find_fn(kDots, t);
  return f ? f(n, w, x) : 0.f;
}

namespace {

// The reference tile of each type of kKernelTypes.
template <size_t... I>
TileFn tile_ref_of(GgmlType t, std::index_sequence<I...>) {
  static constexpr TypedFn<TileFn> kTiles[] = {{kKernelTypes[I], tile_generic<kKernelTypes[I]>}...};
  return find_fn(kTiles, t);
}

}  // namespace

TileFn tile_ref(GgmlType t) {
  return tile_ref_of(t, std::make_index_sequence<std::size(kKernelTypes)>());
}

}  // namespace qwen3::detail
