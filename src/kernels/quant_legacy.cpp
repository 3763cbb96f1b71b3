// The 32-element block formats, transcribed from ggml-quants.c (quantize_row_*_ref and
// dequantize_row_*), so files we write match llama.cpp's bit for bit.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "kernels/fp16.h"
#include "kernels/quant_internal.h"

namespace qwen3::ref {
namespace {

// The value of largest magnitude, with its sign.
float signed_absmax(const float* x, int n) {
  float amax = 0.f, max = 0.f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float* mn, float* mx) {
  float lo = 3.402823466e+38f, hi = -3.402823466e+38f;
  for (int j = 0; j < n; ++j) {
    lo = std::min(lo, x[j]);
    hi = std::max(hi, x[j]);
  }
  *mn = lo;
  *mx = hi;
}

// Blocks with a min (Q4_1, Q5_1): d = (max - min) / nmax and the min stored in b; returns
// 1 / d (0 where all values are equal) and the min in *mn.
template <class Block>
float min_scale(const float* x, int nmax, Block* b, float* mn) {
  float mx;
  min_max(x, kQK, mn, &mx);
  const float d = (mx - *mn) / nmax;
  b->d = fp32_to_fp16(d);
  b->m = fp32_to_fp16(*mn);
  return d ? 1.0f / d : 0.0f;
}

// Weights j and j + 16 of a Q5 block (0..31): their low 4 bits into qs[j], their 5th bits
// into bits j and j + 16 of qh.
void put_q5(uint8_t q0, uint8_t q1, int j, uint8_t* qs, uint32_t* qh) {
  qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
  *qh |= ((q0 & 0x10u) >> 4) << j;
  *qh |= ((q1 & 0x10u) >> 4) << (j + kQK / 2);
}

// Q8_0 and Q8_1 (which also stores s = d * sum of the quants).
template <class Block>
void quantize_q8(const float* x, Block* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0.f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      sum += y[i].qs[j];
    }
    if constexpr (std::is_same_v<Block, BlockQ8_1>) y[i].s = fp32_to_fp16(sum * d);
  }
}

// A block's quant q as a float: (q - kOffset) * d for the formats without a min (Q4_0: 8,
// Q5_0: 16), q * d + m for those with one (Q4_1, Q5_1: kOffset 0).
template <int kOffset, class Block>
struct Value {
  float d, m = 0.f;
  explicit Value(const Block& b) : d(fp16_to_fp32(b.d)) {
    if constexpr (kOffset == 0) m = fp16_to_fp32(b.m);
  }
  float operator()(int q) const {
    if constexpr (kOffset == 0) return q * d + m;
    return (q - kOffset) * d;
  }
};

template <int kOffset, class Block>
void dequantize_q4(const Block* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const Value<kOffset, Block> v(x[i]);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = v(x[i].qs[j] & 0x0F);
      y[j + kQK / 2] = v(x[i].qs[j] >> 4);
    }
  }
}

template <int kOffset, class Block>
void dequantize_q5(const Block* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const Value<kOffset, Block> v(x[i]);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
    for (int j = 0; j < kQK / 2; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10;
      const int h1 = (qh >> (j + 12)) & 0x10;
      y[j] = v((x[i].qs[j] & 0x0F) | h0);
      y[j + kQK / 2] = v((x[i].qs[j] >> 4) | h1);
    }
  }
}

template <class Block>
void dequantize_q8(const Block* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = x[i].qs[j] * d;
  }
}

}  // namespace

void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = signed_absmax(x, kQK) / -8;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const uint8_t q0 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
      const uint8_t q1 =
          std::min(15, static_cast<int>(static_cast<int8_t>(x[kQK / 2 + j] * id + 8.5f)));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_q4_1(const float* x, BlockQ4_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float mn;
    const float id = min_scale(x, 15, &y[i], &mn);
    for (int j = 0; j < kQK / 2; ++j) {
      const uint8_t q0 =
          std::min(15, static_cast<int>(static_cast<int8_t>((x[j] - mn) * id + 0.5f)));
      const uint8_t q1 =
          std::min(15, static_cast<int>(static_cast<int8_t>((x[kQK / 2 + j] - mn) * id + 0.5f)));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_q5_0(const float* x, BlockQ5_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = signed_absmax(x, kQK) / -16;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const uint8_t q0 = std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f)));
      const uint8_t q1 =
          std::min(31, static_cast<int>(static_cast<int8_t>(x[kQK / 2 + j] * id + 16.5f)));
      put_q5(q0, q1, j, y[i].qs, &qh);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

void quantize_q5_1(const float* x, BlockQ5_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float mn;
    const float id = min_scale(x, 31, &y[i], &mn);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j)
      put_q5(static_cast<uint8_t>((x[j] - mn) * id + 0.5f),
             static_cast<uint8_t>((x[kQK / 2 + j] - mn) * id + 0.5f), j, y[i].qs, &qh);
    std::memcpy(y[i].qh, &qh, 4);
  }
}

void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  quantize_q8(x, y, n);
}

void quantize_q8_1(const float* x, BlockQ8_1* y, int64_t n) {
  quantize_q8(x, y, n);
}

void dequantize_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  dequantize_q4<8>(x, y, n);
}

void dequantize_q4_1(const BlockQ4_1* x, float* y, int64_t n) {
  dequantize_q4<0>(x, y, n);
}

void dequantize_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
  dequantize_q5<16>(x, y, n);
}

void dequantize_q5_1(const BlockQ5_1* x, float* y, int64_t n) {
  dequantize_q5<0>(x, y, n);
}

void dequantize_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  dequantize_q8(x, y, n);
}

void dequantize_q8_1(const BlockQ8_1* x, float* y, int64_t n) {
  dequantize_q8(x, y, n);
}

}  // namespace qwen3::ref
