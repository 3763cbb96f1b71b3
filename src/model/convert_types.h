// Which ggml type each tensor gets when a checkpoint is converted or quantized at load.
// The quantized targets follow llama.cpp's llama-quantize (src/llama-quant.cpp,
// llama_tensor_get_type) so our files match the ones users download:
//  - only 2-D weights are quantized; norm weights stay F32;
//  - output.weight (token_embd.weight when the embedding is tied) -> Q6_K, except for
//    Q8_0 targets, which keep Q8_0;
//  - Q4_K_M: attn_v and ffn_down (ffn_down_exps too) -> Q6_K in the layers use_more_bits()
//    picks, else Q4_K;
//  - MoE: the router ffn_gate_inp stays F32 (convert_hf_to_gguf.py writes it F32 and
//    llama-quantize never quantizes it); with exactly 8 experts attn_k and attn_v -> Q8_0,
//    and under Q4_K_M attn_output -> Q5_K (llama.cpp's rule for the 8-expert models);
//  - a row length not divisible by the block size falls back like llama.cpp
//    (Q4_K -> Q5_0, Q6_K -> Q8_0, then F16).
// The float targets follow convert_hf_to_gguf.py: 2-D weights in the target type, 1-D in F32.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/ggml_types.h"

namespace qwen3::hf {

enum class ConvertTarget { F32, F16, BF16, Q8_0, Q4_0, Q4_K_M };

// "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m" (case-insensitive); nullopt otherwise.
std::optional<ConvertTarget> parse_convert_target(std::string_view s);
std::string convert_target_name(ConvertTarget t);
// The --quantize type of a load: Q8_0 -> Q8_0, Q4_0 -> Q4_0, Q4_K -> the Q4_K_M mix.
std::optional<ConvertTarget> convert_target_for(GgmlType quantize);
// llama.cpp's llama_ftype value for general.file_type (ALL_F32 0, MOSTLY_F16 1, ...).
uint32_t llama_file_type(ConvertTarget t);

// llama.cpp's fallback when a row of `row_len` elements does not fit t's block size:
// Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, then F16 (any other type straight to F16).
// The one copy of this rule: conversion, load-time quantization and gen-model use it.
GgmlType fit_row_type(GgmlType t, int64_t row_len);

// llama.cpp's use_more_bits(i_layer, n_layers): the layers that get Q6_K in Q4_K_M.
bool use_more_bits(int i_layer, int n_layers);

// The type of GGUF tensor `name` (dims innermost first) in a model of `n_layers` blocks;
// `has_output` is false when the embedding is tied (no output.weight); n_expert is the
// model's expert count (0 for dense models).
GgmlType tensor_type_for(ConvertTarget t, std::string_view name, const std::vector<int64_t>& dims,
                         int n_layers, bool has_output, int n_expert = 0);

}  // namespace qwen3::hf
