#include "convert/hf_checkpoint_writer.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "common/enum_names.h"
#include "kernels/fp16.h"

namespace qwen3::hf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr NamedValue<GgmlType> kDtypeNames[] = {
    {GgmlType::F32, "F32"}, {GgmlType::F16, "F16"}, {GgmlType::BF16, "BF16"}};

const char* dtype_name(GgmlType t) {
  const char* name = name_of(kDtypeNames, t);
  if (!name) throw std::invalid_argument("safetensors writer: unsupported type");
  return name;
}

size_t elem_size(GgmlType t) {
  return t == GgmlType::F32 ? 4 : 2;
}

int64_t count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error(p.string() + ": write failed");
}

void copy_into(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) throw std::runtime_error("cannot copy " + from.string() + ": " + ec.message());
}

// Values in [-scale, scale] (matrices: ~1/sqrt(fan_in) keeps activations bounded);
// norm weights near 1, as trained models have them.
void fill_random(void* dst, GgmlType type, int64_t n, uint64_t seed, float scale, float center) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  constexpr int64_t kChunk = 4096;
  float buf[kChunk];
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    for (int64_t j = 0; j < m; ++j) buf[j] = center + u(rng);
    if (type == GgmlType::F32) {
      std::memcpy(out + i * 4, buf, static_cast<size_t>(m) * 4);
    } else {
      for (int64_t j = 0; j < m; ++j) {
        const uint16_t h = type == GgmlType::F16 ? fp32_to_fp16(buf[j]) : fp32_to_bf16(buf[j]);
        std::memcpy(out + (i + j) * 2, &h, 2);
      }
    }
  }
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<SafetensorsSpec>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    const uint64_t n = static_cast<uint64_t>(count(t.shape)) * elem_size(t.type);
    header[t.name] = {
        {"dtype", dtype_name(t.type)}, {"shape", t.shape}, {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text += ' ';  // data starts 8-aligned, as HF writes it
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error(path + ": cannot create");
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(uint64_t(text.size()) >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  std::vector<uint8_t> buf;
  for (const auto& t : tensors) {
    buf.assign(static_cast<size_t>(count(t.shape)) * elem_size(t.type), 0);
    if (t.fill) t.fill(buf.data(), buf.size());
    out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
  }
  if (!out) throw std::runtime_error(path + ": write failed");
}

std::string qwen3_config_json(const HfModelConfig& c) {
  json j = {
      {"architectures", {c.architecture.empty() ? "Qwen3ForCausalLM" : c.architecture}},
      {"attention_bias", false},
      {"attention_dropout", 0.0},
      {"bos_token_id", c.bos_token_id.value_or(151643)},
      {"eos_token_id", c.eos_token_ids.empty() ? 151645 : c.eos_token_ids.front()},
      {"head_dim", c.head_dim},
      {"hidden_act", "silu"},
      {"hidden_size", c.hidden_size},
      {"initializer_range", 0.02},
      {"intermediate_size", c.intermediate_size},
      {"max_position_embeddings", c.max_position_embeddings},
      {"max_window_layers", c.num_hidden_layers},
      {"model_type", "qwen3"},
      {"num_attention_heads", c.num_attention_heads},
      {"num_hidden_layers", c.num_hidden_layers},
      {"num_key_value_heads", c.num_key_value_heads},
      {"rms_norm_eps", c.rms_norm_eps},
      {"rope_scaling", nullptr},
      {"rope_theta", c.rope_theta},
      {"sliding_window", nullptr},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"torch_dtype", c.torch_dtype.empty() ? "bfloat16" : c.torch_dtype},
      {"transformers_version", "4.51.0"},
      {"use_cache", true},
      {"use_sliding_window", false},
      {"vocab_size", c.vocab_size},
  };
  if (c.is_moe()) {  // Qwen3-30B-A3B's config.json fields
    j["architectures"] = {"Qwen3MoeForCausalLM"};
    j["model_type"] = "qwen3_moe";
    j["decoder_sparse_step"] = 1;
    j["mlp_only_layers"] = json::array();
    j["moe_intermediate_size"] = c.moe_intermediate_size;
    j["norm_topk_prob"] = c.norm_topk_prob;
    j["num_experts"] = c.num_experts;
    j["num_experts_per_tok"] = c.num_experts_per_tok;
    j["output_router_logits"] = false;
    j["router_aux_loss_coef"] = 0.001;
  }
  if (c.rope_scaling)
    j["rope_scaling"] = {
        {"rope_type", c.rope_scaling->type},
        {"factor", c.rope_scaling->factor},
        {"original_max_position_embeddings", c.rope_scaling->original_max_position_embeddings}};
  return j.dump(2) + "\n";
}

std::vector<std::pair<std::string, std::vector<int64_t>>> qwen3_hf_tensor_shapes(
    const HfModelConfig& c) {
  const int64_t h = c.hidden_size, q = c.num_attention_heads * c.head_dim,
                kv = c.num_key_value_heads * c.head_dim, ff = c.intermediate_size;
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  if (!c.tie_word_embeddings) out.push_back({"lm_head.weight", {c.vocab_size, h}});
  out.push_back({"model.embed_tokens.weight", {c.vocab_size, h}});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    out.push_back({p + "input_layernorm.weight", {h}});
    if (c.is_moe()) {
      const int64_t x = c.moe_intermediate_size;
      for (int64_t e = 0; e < c.num_experts; ++e) {
        const std::string pe = p + "mlp.experts." + std::to_string(e) + ".";
        out.push_back({pe + "down_proj.weight", {h, x}});
        out.push_back({pe + "gate_proj.weight", {x, h}});
        out.push_back({pe + "up_proj.weight", {x, h}});
      }
      out.push_back({p + "mlp.gate.weight", {c.num_experts, h}});
    } else {
      out.push_back({p + "mlp.down_proj.weight", {h, ff}});
      out.push_back({p + "mlp.gate_proj.weight", {ff, h}});
      out.push_back({p + "mlp.up_proj.weight", {ff, h}});
    }
    out.push_back({p + "post_attention_layernorm.weight", {h}});
    out.push_back({p + "self_attn.k_norm.weight", {c.head_dim}});
    out.push_back({p + "self_attn.k_proj.weight", {kv, h}});
    out.push_back({p + "self_attn.o_proj.weight", {h, q}});
    out.push_back({p + "self_attn.q_norm.weight", {c.head_dim}});
    out.push_back({p + "self_attn.q_proj.weight", {q, h}});
    out.push_back({p + "self_attn.v_proj.weight", {kv, h}});
  }
  out.push_back({"model.norm.weight", {h}});
  return out;
}

void write_random_hf_checkpoint(const std::string& folder, const HfModelConfig& c,
                                const RandomCheckpointOptions& opts) {
  const fs::path dir(folder);
  fs::create_directories(dir);
  HfModelConfig cfg = c;
  cfg.torch_dtype = opts.dtype == GgmlType::F32   ? "float32"
                    : opts.dtype == GgmlType::F16 ? "float16"
                                                  : "bfloat16";
  write_file(dir / "config.json", qwen3_config_json(cfg));
  if (opts.generation_config)
    write_file(dir / "generation_config.json", json({{"bos_token_id", 151643},
                                                     {"do_sample", true},
                                                     {"eos_token_id", {151645, 151643}},
                                                     {"pad_token_id", 151643},
                                                     {"temperature", 0.6},
                                                     {"top_k", 20},
                                                     {"top_p", 0.95},
                                                     {"transformers_version", "4.51.0"}})
                                                   .dump(2));
  if (!opts.tokenizer_dir.empty()) {
    copy_into(fs::path(opts.tokenizer_dir) / "tokenizer.json", dir / "tokenizer.json");
    copy_into(fs::path(opts.tokenizer_dir) / "tokenizer_config.json",
              dir / "tokenizer_config.json");
  }

  auto shapes = qwen3_hf_tensor_shapes(c);
  if (c.tie_word_embeddings && opts.write_lm_head_when_tied)
    shapes.insert(shapes.begin(), {"lm_head.weight", {c.vocab_size, c.hidden_size}});
  std::vector<SafetensorsSpec> specs;
  uint64_t k = 0;
  for (const auto& [name, shape] : shapes) {
    const bool vec = shape.size() == 1;
    const float scale = vec ? 0.2f : 1.0f / std::sqrt(static_cast<float>(shape.back()));
    const float center = vec ? 1.0f : 0.0f;
    const uint64_t seed = opts.seed * 1000003ull + k++;
    const GgmlType type = opts.dtype;
    const int64_t n = count(shape);
    specs.push_back({name, type, shape,
                     [=](void* dst, size_t) { fill_random(dst, type, n, seed, scale, center); }});
  }

  const int n_shards = std::max(1, std::min<int>(opts.n_shards, static_cast<int>(specs.size())));
  if (n_shards == 1) {
    write_safetensors((dir / "model.safetensors").string(), specs, {{"format", "pt"}});
    return;
  }
  json weight_map = json::object();
  uint64_t total = 0;
  for (int s = 0; s < n_shards; ++s) {
    char fname[64];
    std::snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", s + 1, n_shards);
    std::vector<SafetensorsSpec> part;
    const size_t lo = specs.size() * s / n_shards, hi = specs.size() * (s + 1) / n_shards;
    for (size_t i = lo; i < hi; ++i) {
      part.push_back(specs[i]);
      weight_map[specs[i].name] = fname;
      total += static_cast<uint64_t>(count(specs[i].shape)) * elem_size(specs[i].type);
    }
    write_safetensors((dir / fname).string(), part, {{"format", "pt"}});
  }
  write_file(dir / "model.safetensors.index.json",
             json({{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}}).dump(2));
}

}  // namespace qwen3::hf
