#include "kernels/quant.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>

#include "kernels/cpu_features.h"
#include "kernels/fp16.h"
#include "kernels/kernels_avx2.h"
#include "kernels/quant_internal.h"
#include "kernels/type_table.h"

namespace qwen3 {
namespace {

using detail::find_fn;
using detail::TypedFn;

void check_row(GgmlType t, int64_t n, const char* what) {
  if (!kernels_support(t) && t != GgmlType::Q8_1 && t != GgmlType::Q8_K)
    throw std::invalid_argument(std::string(what) + ": unsupported type " +
                                std::string(ggml_type_info(t).name));
  const int64_t bs = ggml_type_info(t).block_size;
  if (n < 0 || n % bs != 0)
    throw std::invalid_argument(std::string(what) + ": row of " + std::to_string(n) +
                                " elements is not a multiple of the " +
                                std::string(ggml_type_info(t).name) + " block size " +
                                std::to_string(bs));
}

// The reference row conversions of a type, on untyped rows.
struct RowFns {
  void (*dequantize)(const void* src, float* dst, int64_t n);
  void (*quantize)(const float* src, void* dst, int64_t n);
};

// The typed block functions of quant_internal.h as RowFns members.
template <class B>
void call(void (*f)(const B*, float*, int64_t), const void* src, float* dst, int64_t n) {
  f(static_cast<const B*>(src), dst, n);
}
template <class B>
void call(void (*f)(const float*, B*, int64_t), const float* src, void* dst, int64_t n) {
  f(src, static_cast<B*>(dst), n);
}
template <auto F>
void dequant(const void* src, float* dst, int64_t n) {
  call(F, src, dst, n);
}
template <auto F>
void quant(const float* src, void* dst, int64_t n) {
  call(F, src, dst, n);
}

// F32 rows are copied; F16 and BF16 converted one value at a time.
void copy_in(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, n * sizeof(float));
}
void copy_out(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, n * sizeof(float));
}
template <float (*Conv)(uint16_t)>
void widen(const void* src, float* dst, int64_t n) {
  const auto* u16 = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = Conv(u16[i]);
}
template <uint16_t (*Conv)(float)>
void narrow(const float* src, void* dst, int64_t n) {
  auto* u16 = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) u16[i] = Conv(src[i]);
}

constexpr TypedFn<RowFns> kRefRows[] = {
    {GgmlType::F32, {copy_in, copy_out}},
    {GgmlType::F16, {widen<fp16_to_fp32>, narrow<fp32_to_fp16>}},
    {GgmlType::BF16, {widen<bf16_to_fp32>, narrow<fp32_to_bf16>}},
    {GgmlType::Q4_0, {dequant<ref::dequantize_q4_0>, quant<ref::quantize_q4_0>}},
    {GgmlType::Q4_1, {dequant<ref::dequantize_q4_1>, quant<ref::quantize_q4_1>}},
    {GgmlType::Q5_0, {dequant<ref::dequantize_q5_0>, quant<ref::quantize_q5_0>}},
    {GgmlType::Q5_1, {dequant<ref::dequantize_q5_1>, quant<ref::quantize_q5_1>}},
    {GgmlType::Q8_0, {dequant<ref::dequantize_q8_0>, quant<ref::quantize_q8_0>}},
    {GgmlType::Q8_1, {dequant<ref::dequantize_q8_1>, quant<ref::quantize_q8_1>}},
    {GgmlType::Q4_K, {dequant<ref::dequantize_q4_K>, quant<ref::quantize_q4_K>}},
    {GgmlType::Q5_K, {dequant<ref::dequantize_q5_K>, quant<ref::quantize_q5_K>}},
    {GgmlType::Q6_K, {dequant<ref::dequantize_q6_K>, quant<ref::quantize_q6_K>}},
    {GgmlType::Q8_K, {dequant<ref::dequantize_q8_K>, quant<ref::quantize_q8_K>}},
};

}  // namespace

bool kernels_support(GgmlType t) {
  return std::find(std::begin(kKernelTypes), std::end(kKernelTypes), t) != std::end(kKernelTypes);
}

void dequantize_row_ref(GgmlType t, const void* src, float* dst, int64_t n) {
  check_row(t, n, "dequantize_row");
  if (const RowFns f = find_fn(kRefRows, t); f.dequantize) f.dequantize(src, dst, n);
}

void quantize_row_ref(GgmlType t, const float* src, void* dst, int64_t n) {
  check_row(t, n, "quantize_row");
  if (const RowFns f = find_fn(kRefRows, t); f.quantize) f.quantize(src, dst, n);
}

void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n) {
#if QWEN3_ARCH_X86
  if (use_avx2()) {
    check_row(t, n, "dequantize_row");
    if (t == GgmlType::F16)
      return avx2::fp16_to_fp32_row(static_cast<const uint16_t*>(src), dst, n);
    if (t == GgmlType::BF16)
      return avx2::bf16_to_fp32_row(static_cast<const uint16_t*>(src), dst, n);
    if (t == GgmlType::Q4_0)
      return avx2::dequantize_q4_0(static_cast<const BlockQ4_0*>(src), dst, n);
    if (t == GgmlType::Q8_0)
      return avx2::dequantize_q8_0(static_cast<const BlockQ8_0*>(src), dst, n);
  }
#endif
  dequantize_row_ref(t, src, dst, n);
}

void quantize_row(GgmlType t, const float* src, void* dst, int64_t n) {
#if QWEN3_ARCH_X86
  if (use_avx2()) {
    check_row(t, n, "quantize_row");
    // Weight formats always take the ggml reference so written files match llama.cpp's
    // bit for bit (the AVX2 Q8_0 activation quantizer rounds ties to even); only the
    // activation-only formats and exact conversions go fast.
    if (t == GgmlType::Q8_K) return avx2::quantize_q8_K(src, static_cast<BlockQ8_K*>(dst), n);
    if (t == GgmlType::F16) return avx2::fp32_to_fp16_row(src, static_cast<uint16_t*>(dst), n);
    // K-quants: the reference's scale searches run 8 sub-blocks per AVX2 register with the
    // scalar float operations in the scalar order, so the bytes are the reference's.
    if (t == GgmlType::Q4_K) return ref::quantize_q4_K_avx2(src, static_cast<BlockQ4_K*>(dst), n);
    if (t == GgmlType::Q5_K) return ref::quantize_q5_K_avx2(src, static_cast<BlockQ5_K*>(dst), n);
    if (t == GgmlType::Q6_K) return ref::quantize_q6_K_avx2(src, static_cast<BlockQ6_K*>(dst), n);
  }
#endif
  quantize_row_ref(t, src, dst, n);
}

}  // namespace qwen3
