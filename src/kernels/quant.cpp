#include "kernels/quant.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu_features.h"
#include "kernels/fp16.h"
#include "kernels/kernels_avx2.h"
#include "kernels/quant_internal.h"

namespace qwen3 {
namespace {

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

}  // namespace

bool kernels_support(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return true;
    default:
      return false;
  }
}

void dequantize_row_ref(GgmlType t, const void* src, float* dst, int64_t n) {
  check_row(t, n, "dequantize_row");
  const auto* u16 = static_cast<const uint16_t*>(src);
  switch (t) {
    case GgmlType::F32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(u16[i]);
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(u16[i]);
      return;
    case GgmlType::Q4_0:
      return ref::dequantize_q4_0(static_cast<const BlockQ4_0*>(src), dst, n);
    case GgmlType::Q4_1:
      return ref::dequantize_q4_1(static_cast<const BlockQ4_1*>(src), dst, n);
    case GgmlType::Q5_0:
      return ref::dequantize_q5_0(static_cast<const BlockQ5_0*>(src), dst, n);
    case GgmlType::Q5_1:
      return ref::dequantize_q5_1(static_cast<const BlockQ5_1*>(src), dst, n);
    case GgmlType::Q8_0:
      return ref::dequantize_q8_0(static_cast<const BlockQ8_0*>(src), dst, n);
    case GgmlType::Q8_1:
      return ref::dequantize_q8_1(static_cast<const BlockQ8_1*>(src), dst, n);
    case GgmlType::Q4_K:
      return ref::dequantize_q4_K(static_cast<const BlockQ4_K*>(src), dst, n);
    case GgmlType::Q5_K:
      return ref::dequantize_q5_K(static_cast<const BlockQ5_K*>(src), dst, n);
    case GgmlType::Q6_K:
      return ref::dequantize_q6_K(static_cast<const BlockQ6_K*>(src), dst, n);
    case GgmlType::Q8_K:
      return ref::dequantize_q8_K(static_cast<const BlockQ8_K*>(src), dst, n);
    default:
      break;
  }
}

void quantize_row_ref(GgmlType t, const float* src, void* dst, int64_t n) {
  check_row(t, n, "quantize_row");
  auto* u16 = static_cast<uint16_t*>(dst);
  switch (t) {
    case GgmlType::F32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) u16[i] = fp32_to_fp16(src[i]);
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) u16[i] = fp32_to_bf16(src[i]);
      return;
    case GgmlType::Q4_0:
      return ref::quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), n);
    case GgmlType::Q4_1:
      return ref::quantize_q4_1(src, static_cast<BlockQ4_1*>(dst), n);
    case GgmlType::Q5_0:
      return ref::quantize_q5_0(src, static_cast<BlockQ5_0*>(dst), n);
    case GgmlType::Q5_1:
      return ref::quantize_q5_1(src, static_cast<BlockQ5_1*>(dst), n);
    case GgmlType::Q8_0:
      return ref::quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), n);
    case GgmlType::Q8_1:
      return ref::quantize_q8_1(src, static_cast<BlockQ8_1*>(dst), n);
    case GgmlType::Q4_K:
      return ref::quantize_q4_K(src, static_cast<BlockQ4_K*>(dst), n);
    case GgmlType::Q5_K:
      return ref::quantize_q5_K(src, static_cast<BlockQ5_K*>(dst), n);
    case GgmlType::Q6_K:
      return ref::quantize_q6_K(src, static_cast<BlockQ6_K*>(dst), n);
    case GgmlType::Q8_K:
      return ref::quantize_q8_K(src, static_cast<BlockQ8_K*>(dst), n);
    default:
      break;
  }
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
