#include "convert/random_model.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "gguf/gguf_writer.h"
#include "kernels/quant.h"
#include "kernels/thread_pool.h"
#include "model/convert_types.h"
#include "text/tokenizer.h"

namespace qwen3 {

namespace {

struct TypeRow {
  const char* name;
  std::optional<GgmlType> type;
  uint32_t file_type;  // llama_ftype
};

const TypeRow kTypes[] = {
    {"f32", GgmlType::F32, 0},    {"f16", GgmlType::F16, 1},    {"bf16", GgmlType::BF16, 32},
    {"q8_0", GgmlType::Q8_0, 7},  {"q4_0", GgmlType::Q4_0, 2},  {"q4_1", GgmlType::Q4_1, 3},
    {"q5_0", GgmlType::Q5_0, 8},  {"q5_1", GgmlType::Q5_1, 9},  {"q4_k", GgmlType::Q4_K, 14},
    {"q5_k", GgmlType::Q5_K, 16}, {"q6_k", GgmlType::Q6_K, 18}, {"q4_k_m", std::nullopt, 15},
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t name_hash(std::string_view s) {  // FNV-1a
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ULL;
  return h;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// How a tensor's random values are spread: uniform in [center - hw, center + hw].
struct Init {
  float center;
  float half_width;
};

// Scales that keep activations O(1): projections ~ 1/sqrt(fan_in), the residual branches
// shrunk with depth, norms near 1, logits with a spread of about 2.
Init init_for(const Qwen3Config& c, std::string_view name, const std::vector<int64_t>& dims) {
  const float sqrt3 = std::sqrt(3.0f);
  if (dims.size() == 1) return {1.0f, 0.1f};
  const float fan_in = static_cast<float>(dims[0]);
  float std_dev = 1.0f / std::sqrt(fan_in);
  if (name == "token_embd.weight" || name == "output.weight") std_dev = 2.0f / std::sqrt(fan_in);
  if (ends_with(name, "attn_output.weight") || ends_with(name, "ffn_down.weight") ||
      ends_with(name, "ffn_down_exps.weight"))
    std_dev /= std::sqrt(2.0f * static_cast<float>(c.n_layers));
  // A router with logits of spread ~2 gives a peaked but not degenerate expert choice.
  if (ends_with(name, "ffn_gate_inp.weight")) std_dev = 2.0f / std::sqrt(fan_in);
  return {0.0f, std_dev * sqrt3};
}

std::vector<std::pair<std::string, std::vector<int64_t>>> tensor_list(const Qwen3Config& c) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> t;
  const int64_t E = c.n_embd, F = c.n_ff, Q = c.q_dim(), K = c.kv_dim(), hd = c.head_dim;
  t.push_back({"token_embd.weight", {E, c.n_vocab}});
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    t.push_back({p + "attn_norm.weight", {E}});
    t.push_back({p + "attn_q.weight", {E, Q}});
    t.push_back({p + "attn_k.weight", {E, K}});
    t.push_back({p + "attn_v.weight", {E, K}});
    t.push_back({p + "attn_q_norm.weight", {hd}});
    t.push_back({p + "attn_k_norm.weight", {hd}});
    t.push_back({p + "attn_output.weight", {Q, E}});
    t.push_back({p + "ffn_norm.weight", {E}});
    if (c.is_moe()) {  // llama.cpp's qwen3moe tensors (dims innermost first)
      const int64_t X = c.n_ff_exp, NE = c.n_expert;
      t.push_back({p + "ffn_gate_inp.weight", {E, NE}});
      t.push_back({p + "ffn_gate_exps.weight", {E, X, NE}});
      t.push_back({p + "ffn_down_exps.weight", {X, E, NE}});
      t.push_back({p + "ffn_up_exps.weight", {E, X, NE}});
    } else {
      t.push_back({p + "ffn_gate.weight", {E, F}});
      t.push_back({p + "ffn_up.weight", {E, F}});
      t.push_back({p + "ffn_down.weight", {F, E}});
    }
  }
  t.push_back({"output_norm.weight", {E}});
  if (!c.tied_embeddings) t.push_back({"output.weight", {E, c.n_vocab}});
  return t;
}

}  // namespace

GenModelType parse_gen_model_type(std::string_view name) {
  std::string l;
  for (char ch : name) l += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const auto& r : kTypes)
    if (l == r.name) return {r.name, r.type, r.file_type};
  std::string known;
  for (const auto& r : kTypes) known += std::string(known.empty() ? "" : ", ") + r.name;
  throw std::invalid_argument("unknown weight type '" + std::string(name) + "' (known: " + known +
                              ")");
}

std::vector<std::string> gen_model_type_names() {
  std::vector<std::string> out;
  for (const auto& r : kTypes) out.emplace_back(r.name);
  return out;
}

float random_weight(uint64_t seed, std::string_view name, uint64_t i, float half_width) {
  const uint64_t r = splitmix64(splitmix64(seed ^ name_hash(name)) + i);
  const float u = static_cast<float>(r >> 40) * (1.0f / 16777216.0f);  // [0, 1)
  return (2.0f * u - 1.0f) * half_width;
}

std::vector<int32_t> qwen3vl_mrope_sections(int head_dim) {
  const int half = head_dim / 2;
  const int h = half * 20 / 64, w = half * 20 / 64;
  return {half - h - w, h, w, 0};
}

GgmlType gen_model_tensor_type(const GenModelOptions& opts, std::string_view name,
                               const std::vector<int64_t>& dims) {
  if (dims.size() < 2 || ends_with(name, "ffn_gate_inp.weight")) return GgmlType::F32;
  if (!opts.type.type)
    return hf::tensor_type_for(hf::ConvertTarget::Q4_K_M, name, dims, opts.config.n_layers,
                               !opts.config.tied_embeddings, opts.config.n_expert);
  return hf::fit_row_type(*opts.type.type, dims[0]);
}

void generate_random_model(const GenModelOptions& opts, const Tokenizer& tokenizer,
                           const std::string& path, const std::string& chat_template) {
  const Qwen3Config& c = opts.config;
  c.validate();
  gguf::GgufWriter w;
  const bool vl = opts.vl_deepstack_layers >= 0;
  const std::string arch = vl ? (c.is_moe() ? "qwen3vlmoe" : "qwen3vl") : c.arch;
  const std::string a = arch + ".";  // "qwen3.", "qwen3moe.", "qwen3vl."
  w.set_string("general.architecture", arch);
  w.set_string("general.type", "model");
  w.set_string("general.name", c.name.empty() ? "qwen3-random" : c.name);
  w.set_u32("general.quantization_version", 2);
  w.set_u32("general.file_type", opts.type.file_type);
  w.set_u32("general.alignment", 32);
  w.set_u32(a + "block_count", static_cast<uint32_t>(c.n_layers));
  w.set_u32(a + "context_length", static_cast<uint32_t>(c.n_ctx_train));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(c.n_embd));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(c.n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(c.n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(c.n_head_kv));
  w.set_f32(a + "rope.freq_base", c.rope_theta);
  w.set_f32(a + "attention.layer_norm_rms_epsilon", c.rms_eps);
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(c.head_dim));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(c.head_dim));
  if (c.is_moe()) {
    w.set_u32(a + "expert_count", static_cast<uint32_t>(c.n_expert));
    w.set_u32(a + "expert_used_count", static_cast<uint32_t>(c.n_expert_used));
    w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(c.n_ff_exp));
  }
  if (vl) {
    w.set_u32(a + "n_deepstack_layers", static_cast<uint32_t>(opts.vl_deepstack_layers));
    w.set_int32_array(a + "rope.dimension_sections", opts.vl_mrope_sections.empty()
                                                         ? qwen3vl_mrope_sections(c.head_dim)
                                                         : opts.vl_mrope_sections);
  }
  if (c.has_yarn()) {  // as convert_hf_to_gguf.py writes config.json's rope_scaling
    w.set_string(a + "rope.scaling.type", "yarn");
    w.set_f32(a + "rope.scaling.factor", c.yarn_factor);
    w.set_u32(a + "rope.scaling.original_context_length", static_cast<uint32_t>(c.yarn_orig_ctx));
  }

  // The tokenizer, as convert_hf_to_gguf.py writes a Qwen2/Qwen3 one: ids the tokenizer
  // lacks up to the vocabulary size become "[PADn]" tokens of type UNUSED (5).
  std::vector<std::string> tokens = tokenizer.vocab_strings();
  std::vector<int32_t> types = tokenizer.token_types();
  for (int i = static_cast<int>(tokens.size()); i < c.n_vocab; ++i) {
    tokens.push_back("[PAD" + std::to_string(i) + "]");
    types.push_back(5);
  }
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "qwen2");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_int32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", tokenizer.merges());
  w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tokenizer.im_end_id()));
  w.set_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(tokenizer.eos_id()));
  w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(tokenizer.eos_id()));
  w.set_bool("tokenizer.ggml.add_bos_token", false);
  const std::string& tmpl = chat_template.empty() ? tokenizer.chat_template() : chat_template;
  if (!tmpl.empty()) w.set_string("tokenizer.chat_template", tmpl);

  const int n_threads = opts.n_threads > 0 ? opts.n_threads : physical_core_count();
  auto pool = std::make_shared<ThreadPool>(n_threads);
  for (auto& [name, dims] : tensor_list(c)) {
    const GgmlType type = gen_model_tensor_type(opts, name, dims);
    const Init init = init_for(c, name, dims);
    const int64_t cols = dims[0];
    int64_t rows = 1;  // all rows of all slices (3-D expert tensors)
    for (size_t d = 1; d < dims.size(); ++d) rows *= dims[d];
    const uint64_t seed = opts.seed;
    w.add_tensor_lazy(name, type, dims, [=, name = name](void* dst, size_t /*nbytes*/) {
      const size_t row_bytes = ggml_row_size(type, cols);
      pool->parallel_for(rows, [&](int64_t r0, int64_t r1, int) {
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = r0; r < r1; ++r) {
          for (int64_t i = 0; i < cols; ++i)
            row[static_cast<size_t>(i)] =
                init.center +
                random_weight(seed, name, static_cast<uint64_t>(r * cols + i), init.half_width);
          uint8_t* out = static_cast<uint8_t*>(dst) + static_cast<size_t>(r) * row_bytes;
          if (type == GgmlType::F32)
            std::memcpy(out, row.data(), row_bytes);
          else
            quantize_row(type, row.data(), out, cols);
        }
      });
    });
  }
  w.write(path);
}

}  // namespace qwen3
