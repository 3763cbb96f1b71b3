// ggml tensor types as stored in GGUF files: ids, block sizes and bytes per block,
// exactly as ggml defines them (ggml.h / ggml-common.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace qwen3 {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
};

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;
  uint32_t block_size;  // elements per block
  uint32_t type_size;   // bytes per block
  bool supported;       // weights of this type can be loaded by the engine
};

// nullopt for ids that are not a known ggml type.
std::optional<GgmlTypeInfo> ggml_type_info(uint32_t id);
const GgmlTypeInfo& ggml_type_info(GgmlType t);
std::optional<GgmlType> ggml_type_from_name(std::string_view name);  // "q4_k", "Q4_K", "f16"...

// Bytes of a row of n elements; n must be a multiple of the block size.
inline size_t ggml_row_size(GgmlType t, int64_t n) {
  const auto& ti = ggml_type_info(t);
  return static_cast<size_t>(n / ti.block_size) * ti.type_size;
}

}  // namespace qwen3
