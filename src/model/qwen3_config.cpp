#include "model/qwen3_config.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "gguf/gguf_reader.h"

namespace qwen3 {

namespace {

struct PresetRow {
  const char* name;
  int n_layers, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx;
  bool tied;
  int n_expert, n_expert_used, n_ff_exp;  // 0 for the dense models
  bool released;                          // a Qwen3 release (false: a test shape)
};

// Qwen3 shapes (config.json of the Hugging Face releases; the MoE rows from
// Qwen3-30B-A3B and Qwen3-235B-A22B: num_experts, num_experts_per_tok,
// moe_intermediate_size). `tiny` and `tiny-moe` are for tests: small matrices but the
// real vocabulary, so the real tokenizer fits.
constexpr PresetRow kPresets[] = {
    {"tiny", 2, 64, 4, 2, 16, 128, 151669, 4096, true, 0, 0, 0, false},
    {"0.6b", 28, 1024, 16, 8, 128, 3072, 151936, 40960, true, 0, 0, 0, true},
    {"1.7b", 28, 2048, 16, 8, 128, 6144, 151936, 40960, true, 0, 0, 0, true},
    {"4b", 36, 2560, 32, 8, 128, 9728, 151936, 40960, true, 0, 0, 0, true},
    {"8b", 36, 4096, 32, 8, 128, 12288, 151936, 40960, false, 0, 0, 0, true},
    {"14b", 40, 5120, 40, 8, 128, 17408, 151936, 40960, false, 0, 0, 0, true},
    {"32b", 64, 5120, 64, 8, 128, 25600, 151936, 40960, false, 0, 0, 0, true},
    {"tiny-moe", 3, 64, 4, 2, 16, 128, 151669, 4096, true, 8, 2, 32, false},
    {"30b-a3b", 48, 2048, 32, 4, 128, 6144, 151936, 40960, false, 128, 8, 768, true},
    {"235b-a22b", 94, 4096, 64, 4, 128, 12288, 151936, 40960, false, 128, 8, 1536, true},
};

Qwen3Config from_row(const PresetRow& r) {
  Qwen3Config c;
  c.name = std::string("qwen3-") + r.name;
  c.n_layers = r.n_layers;
  c.n_embd = r.n_embd;
  c.n_head = r.n_head;
  c.n_head_kv = r.n_head_kv;
  c.head_dim = r.head_dim;
  c.n_ff = r.n_ff;
  c.n_vocab = r.n_vocab;
  c.n_ctx_train = r.n_ctx;
  c.tied_embeddings = r.tied;
  if (r.n_expert > 0) {
    c.arch = "qwen3moe";
    c.n_expert = r.n_expert;
    c.n_expert_used = r.n_expert_used;
    c.n_ff_exp = r.n_ff_exp;
  }
  return c;
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("invalid Qwen3 config: " + what);
}

}  // namespace

void Qwen3Config::validate() const {
  require(n_layers > 0 && n_layers <= 1024, "block_count " + std::to_string(n_layers));
  require(n_embd > 0 && n_embd <= 65536, "embedding_length " + std::to_string(n_embd));
  require(n_head > 0 && n_head <= 1024, "attention.head_count " + std::to_string(n_head));
  require(n_head_kv > 0 && n_head % n_head_kv == 0,
          "attention.head_count_kv " + std::to_string(n_head_kv) +
              " must divide attention.head_count " + std::to_string(n_head));
  require(head_dim > 0 && head_dim % 2 == 0 && head_dim <= 1024,
          "attention.key_length " + std::to_string(head_dim) + " (must be even)");
  require(n_ff > 0 && n_ff <= 1 << 20, "feed_forward_length " + std::to_string(n_ff));
  require(n_vocab > 0 && n_vocab <= 1 << 22, "vocabulary size " + std::to_string(n_vocab));
  require(n_ctx_train > 0, "context_length " + std::to_string(n_ctx_train));
  require(rope_theta > 0, "rope.freq_base " + std::to_string(rope_theta));
  require(rms_eps > 0 && rms_eps < 1, "layer_norm_rms_epsilon " + std::to_string(rms_eps));
  require(arch == (n_expert > 0 ? "qwen3moe" : "qwen3"),
          "architecture '" + arch + "' with expert_count " + std::to_string(n_expert));
  if (n_expert > 0) {
    require(n_expert <= 4096, "expert_count " + std::to_string(n_expert));
    require(n_expert_used > 0 && n_expert_used <= n_expert,
            "expert_used_count " + std::to_string(n_expert_used) + " (1.." +
                std::to_string(n_expert) + ")");
    require(n_ff_exp > 0 && n_ff_exp <= 1 << 20,
            "expert_feed_forward_length " + std::to_string(n_ff_exp));
  }
  if (yarn_factor != 0.0f) {
    require(yarn_factor > 1.0f && yarn_factor <= 1024.0f,
            "rope.scaling.factor " + std::to_string(yarn_factor) + " (YaRN needs 1 < factor)");
    require(yarn_orig_ctx > 0,
            "rope.scaling.original_context_length " + std::to_string(yarn_orig_ctx));
  }
}

double Qwen3Config::n_params() const {
  const double h = n_embd, q = q_dim(), kv = kv_dim();
  const double attn = h * q + 2 * h * kv + q * h + 2.0 * head_dim;  // q, k, v, o, q/k norms
  const double mlp = is_moe() ? n_expert * (3.0 * h * n_ff_exp) + h * n_expert  // + router
                              : 3.0 * h * n_ff;
  const double per_layer = attn + mlp + 2.0 * h;  // + attn_norm, ffn_norm
  const double embed = double(n_vocab) * h * (tied_embeddings ? 1 : 2);
  return n_layers * per_layer + embed + h;  // + output_norm
}

int Qwen3Config::max_context() const {
  if (!has_yarn()) return n_ctx_train;
  const double ext = static_cast<double>(yarn_orig_ctx) * yarn_factor;
  return static_cast<int>(std::min<double>(std::max<double>(n_ctx_train, ext), 1 << 30));
}

Qwen3Config Qwen3Config::preset(std::string_view name) {
  for (const auto& r : kPresets)
    if (name == r.name) return from_row(r);
  std::string known;
  for (const auto& r : kPresets) known += std::string(known.empty() ? "" : ", ") + r.name;
  throw std::invalid_argument("unknown model preset '" + std::string(name) + "' (known: " + known +
                              ")");
}

std::vector<std::string> Qwen3Config::preset_names() {
  std::vector<std::string> out;
  for (const auto& r : kPresets) out.emplace_back(r.name);
  return out;
}

std::vector<std::string> Qwen3Config::released_dense_preset_names() {
  std::vector<std::string> out;
  for (const auto& r : kPresets)
    if (r.released && r.n_expert == 0) out.emplace_back(r.name);
  return out;
}

Qwen3Config Qwen3Config::tiny() {
  return preset("tiny");
}
Qwen3Config Qwen3Config::qwen3_0_6b() {
  return preset("0.6b");
}
Qwen3Config Qwen3Config::qwen3_1_7b() {
  return preset("1.7b");
}
Qwen3Config Qwen3Config::qwen3_4b() {
  return preset("4b");
}
Qwen3Config Qwen3Config::qwen3_8b() {
  return preset("8b");
}

Qwen3Config Qwen3Config::from_gguf(const gguf::GgufFile& f) {
  const std::string file = f.path() + ": ";
  auto arch = f.get_string("general.architecture");
  if (!arch) throw std::runtime_error(file + "missing general.architecture");
  const bool vl = *arch == "qwen3vl" || *arch == "qwen3vlmoe";
  if (*arch != "qwen3" && *arch != "qwen3moe" && !vl)
    throw std::runtime_error(
        file + "unsupported architecture '" + *arch +
        "' (this runtime runs qwen3, qwen3moe, qwen3vl and qwen3vlmoe models)");
  const std::string p = *arch + ".";
  auto need_int = [&](const std::string& key) -> int {
    auto v = f.get_uint(p + key);
    if (!v) throw std::runtime_error(file + "missing metadata key " + p + key);
    if (*v > static_cast<uint64_t>(std::numeric_limits<int>::max()))
      throw std::runtime_error(file + p + key + " is out of range: " + std::to_string(*v));
    return static_cast<int>(*v);
  };
  Qwen3Config c;
  c.arch = vl ? (*arch == "qwen3vlmoe" ? "qwen3moe" : "qwen3") : *arch;
  if (vl) {
    c.vl_deepstack_layers = f.has(p + "n_deepstack_layers") ? need_int("n_deepstack_layers") : 0;
    for (int64_t v : f.get_int_array(p + "rope.dimension_sections")) {
      if (v < 0 || v > 4096)
        throw std::runtime_error(file + p + "rope.dimension_sections is out of range");
      c.mrope_sections.push_back(static_cast<int>(v));
    }
  }
  c.name = f.get_string("general.name").value_or("qwen3");
  c.n_layers = need_int("block_count");
  c.n_ctx_train = need_int("context_length");
  c.n_embd = need_int("embedding_length");
  c.n_ff = need_int("feed_forward_length");
  c.n_head = need_int("attention.head_count");
  c.n_head_kv =
      f.has(p + "attention.head_count_kv") ? need_int("attention.head_count_kv") : c.n_head;
  c.head_dim = f.has(p + "attention.key_length") ? need_int("attention.key_length")
                                                 : (c.n_head > 0 ? c.n_embd / c.n_head : 0);
  if (f.has(p + "attention.value_length") && need_int("attention.value_length") != c.head_dim)
    throw std::runtime_error(file + p + "attention.value_length differs from key_length");
  // llama.cpp's default when the key is absent.
  c.rope_theta = static_cast<float>(f.get_float(p + "rope.freq_base").value_or(10000.0));
  auto eps = f.get_float(p + "attention.layer_norm_rms_epsilon");
  if (!eps)
    throw std::runtime_error(file + "missing metadata key " + p +
                             "attention.layer_norm_rms_epsilon");
  c.rms_eps = static_cast<float>(*eps);
  if (c.arch == "qwen3moe") {
    // llama.cpp's keys; the MoE block always renormalises the top-k weights there.
    c.n_expert = need_int("expert_count");
    c.n_expert_used = need_int("expert_used_count");
    c.n_ff_exp = f.has(p + "expert_feed_forward_length")
                     ? need_int("expert_feed_forward_length")
                     : (c.n_expert_used > 0 ? c.n_ff / c.n_expert_used : 0);
    c.norm_topk_prob = true;
    if (c.n_expert == 0)
      throw std::runtime_error(file + p + "expert_count is 0 in a qwen3moe model");
  }
  if (auto scaling = f.get_string(p + "rope.scaling.type"); scaling && *scaling != "none") {
    if (*scaling != "yarn")
      throw std::runtime_error(file + "unsupported rope scaling '" + *scaling + "' (" + p +
                               "rope.scaling.type; only yarn)");
    // llama.cpp: rope.scaling.factor, or 1 / rope.scale_linear; 0 or 1 means none.
    const double factor = f.get_float(p + "rope.scaling.factor").value_or(0.0);
    if (factor > 1.0) {
      c.yarn_factor = static_cast<float>(factor);
      c.yarn_orig_ctx = f.has(p + "rope.scaling.original_context_length")
                            ? need_int("rope.scaling.original_context_length")
                            : c.n_ctx_train;
    }
  }
  // The vocabulary is the embedding's row count (the tokenizer may hold fewer tokens).
  if (const auto* emb = f.tensor("token_embd.weight"); emb && emb->dims.size() == 2) {
    if (emb->dims[1] > std::numeric_limits<int>::max())
      throw std::runtime_error(file + "token_embd.weight has too many rows");
    c.n_vocab = static_cast<int>(emb->dims[1]);
  } else {
    c.n_vocab = static_cast<int>(f.get_string_array("tokenizer.ggml.tokens").size());
  }
  c.tied_embeddings = f.tensor("output.weight") == nullptr;
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(file + e.what());
  }
  return c;
}

}  // namespace qwen3
