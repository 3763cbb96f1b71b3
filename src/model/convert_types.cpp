#include "model/convert_types.h"

#include <cctype>
#include <cstdio>

#include "common/enum_names.h"
namespace qwen3::hf {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "blk.N.xxx" -> N, else -1.
int layer_of(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return -1;
  int n = 0;
  size_t i = 4;
  if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])))
    n = n * 10 + (name[i++] - '0');
  return n;
}

// Per target: the GGML type it stores its matrices in (the base type of a mix) and llama.cpp's
// general.file_type (LLAMA_FTYPE_*).
struct TargetFacts {
  ConvertTarget target;
  GgmlType ggml;
  bool quantized;
  uint32_t llama_ftype;
};

constexpr TargetFacts kTargetFacts[] = {
    {ConvertTarget::F32, GgmlType::F32, false, 0},
    {ConvertTarget::F16, GgmlType::F16, false, 1},
    {ConvertTarget::BF16, GgmlType::BF16, false, 32},
    {ConvertTarget::Q8_0, GgmlType::Q8_0, true, 7},
    {ConvertTarget::Q4_0, GgmlType::Q4_0, true, 2},
    {ConvertTarget::Q4_K_M, GgmlType::Q4_K, true, 15},
};

const TargetFacts* target_facts(ConvertTarget t) {
  for (const TargetFacts& f : kTargetFacts)
    if (f.target == t) return &f;
  return nullptr;
}

}  // namespace

constexpr NamedValue<ConvertTarget> kConvertTargetNames[] = {
    {ConvertTarget::F32, "f32"},   {ConvertTarget::F16, "f16"},
    {ConvertTarget::BF16, "bf16"}, {ConvertTarget::Q8_0, "q8_0"},
    {ConvertTarget::Q4_0, "q4_0"}, {ConvertTarget::Q4_K_M, "q4_k_m"}};

std::optional<ConvertTarget> parse_convert_target(std::string_view s) {
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return value_of(kConvertTargetNames, l);
}

std::string convert_target_name(ConvertTarget t) {
  return name_of(kConvertTargetNames, t, "?");
}

std::optional<ConvertTarget> convert_target_for(GgmlType q) {
  for (const TargetFacts& f : kTargetFacts)
    if (f.ggml == q) return f.target;
  return std::nullopt;
}

uint32_t llama_file_type(ConvertTarget t) {
  const TargetFacts* f = target_facts(t);
  return f ? f->llama_ftype : 0;
}

GgmlType fit_row_type(GgmlType t, int64_t row) {
  auto fits = [row](GgmlType x) { return row % ggml_type_info(x).block_size == 0; };
  if (fits(t)) return t;
  if (t == GgmlType::Q4_K)
    t = GgmlType::Q5_0;
  else if (t == GgmlType::Q5_K)
    t = GgmlType::Q5_1;
  else if (t == GgmlType::Q6_K)
    t = GgmlType::Q8_0;
  return fits(t) ? t : GgmlType::F16;
}

bool use_more_bits(int i, int n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

GgmlType tensor_type_for(ConvertTarget t, std::string_view name, const std::vector<int64_t>& dims,
                         int n_layers, bool has_output, int n_expert) {
  const bool matrix = dims.size() >= 2 && ends_with(name, ".weight") &&
                      name.find("_norm.weight") == std::string_view::npos;
  if (!matrix || ends_with(name, ".ffn_gate_inp.weight")) return GgmlType::F32;
  const int64_t row = dims[0];
  const TargetFacts* facts = target_facts(t);
  if (facts && !facts->quantized) return facts->ggml;
  const GgmlType base = facts ? facts->ggml : GgmlType::Q4_K;
  GgmlType out = base;
  const bool is_output = name == "output.weight" || (!has_output && name == "token_embd.weight");
  if (is_output) {
    // llama.cpp: Q8_0 when the row does not fit the K-quant block, else Q6_K (Q8_0 stays).
    if (row % ggml_type_info(base).block_size != 0)
      out = GgmlType::Q8_0;
    else if (base != GgmlType::Q8_0)
      out = GgmlType::Q6_K;
  } else if (t == ConvertTarget::Q4_K_M) {
    const int layer = layer_of(name);
    const bool more = layer >= 0 && use_more_bits(layer, n_layers);
    const bool down = ends_with(name, ".ffn_down.weight") ||
                      ends_with(name, ".ffn_down_exps.weight") ||
                      (name.find(".ffn_down.") != std::string_view::npos);  // per-expert
    if ((ends_with(name, ".attn_v.weight") || down) && more) out = GgmlType::Q6_K;
    if (n_expert == 8 && ends_with(name, ".attn_output.weight")) out = GgmlType::Q5_K;
  }
  if (n_expert == 8 && !is_output &&
      (ends_with(name, ".attn_v.weight") || ends_with(name, ".attn_k.weight")))
    out = GgmlType::Q8_0;
  return fit_row_type(out, row);
}

}  // namespace qwen3::hf
