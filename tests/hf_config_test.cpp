// config.json / generation_config.json parsing: the official Qwen3 files, and the
// fields this runtime must refuse with a clear message.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "convert/hf_checkpoint_writer.h"
#include "model/hf_config.h"
#include "model/hf_model_loader.h"
#include "shape_util.h"

namespace qwen3::hf {
namespace {

using nlohmann::json;

// Qwen/Qwen3-0.6B config.json as published.
const char* kQwen3_06B = R"({
  "architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
  "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072,
  "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
  "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null,
  "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.51.0",
  "use_cache": true, "use_sliding_window": false, "vocab_size": 151936})";

void expect_error(const json& j, const std::string& needle) {
  try {
    parse_hf_config(j.dump());
    ADD_FAILURE() << "no error; expected '" << needle << "'";
  } catch (const HfConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(HfConfig, ReadsTheOfficialConfig) {
  const HfModelConfig c = parse_hf_config(kQwen3_06B);
  EXPECT_EQ(c.architecture, "Qwen3ForCausalLM");
  // {layers, hidden, heads, KV heads, head_dim, intermediate, vocab, max positions}
  EXPECT_EQ(test::hf_dims(c), (test::Dims{28, 1024, 16, 8, 128, 3072, 151936, 40960}));
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_EQ(c.bos_token_id, 151643);
  EXPECT_EQ(c.eos_token_ids, std::vector<int32_t>{151645});
  EXPECT_FALSE(c.rope_scaling);

  const Qwen3Config q = to_qwen3_config(c, "x");
  const Qwen3Config p = Qwen3Config::preset("0.6b");
  EXPECT_EQ(q.n_layers, p.n_layers);
  EXPECT_EQ(q.n_embd, p.n_embd);
  EXPECT_EQ(q.n_head, p.n_head);
  EXPECT_EQ(q.n_head_kv, p.n_head_kv);
  EXPECT_EQ(q.head_dim, p.head_dim);
  EXPECT_EQ(q.n_ff, p.n_ff);
  EXPECT_EQ(q.n_vocab, p.n_vocab);
  EXPECT_EQ(q.n_ctx_train, p.n_ctx_train);
  EXPECT_EQ(q.tied_embeddings, p.tied_embeddings);
}

TEST(HfConfig, WriterOutputParsesBack) {
  HfModelConfig c = parse_hf_config(kQwen3_06B);
  c.tie_word_embeddings = false;
  c.rope_scaling = RopeScaling{"yarn", 4.0, 32768};
  const HfModelConfig back = parse_hf_config(qwen3_config_json(c));
  EXPECT_EQ(back.hidden_size, c.hidden_size);
  EXPECT_FALSE(back.tie_word_embeddings);
  ASSERT_TRUE(back.rope_scaling);
  EXPECT_EQ(back.rope_scaling->type, "yarn");
  EXPECT_DOUBLE_EQ(back.rope_scaling->factor, 4.0);
  EXPECT_EQ(back.rope_scaling->original_max_position_embeddings, 32768);
}

TEST(HfConfig, DefaultsAndVariants) {
  json j = json::parse(kQwen3_06B);
  j.erase("head_dim");
  j.erase("num_key_value_heads");
  j["eos_token_id"] = {151645, 151643};
  const HfModelConfig c = parse_hf_config(j.dump());
  EXPECT_EQ(c.head_dim, 1024 / 16);
  EXPECT_EQ(c.num_key_value_heads, 16);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{151645, 151643}));
  j["rope_scaling"] = {{"type", "default"}};
  EXPECT_FALSE(parse_hf_config(j.dump()).rope_scaling);
}

TEST(HfConfig, YarnIsReadAndBecomesTheRuntimeConfig) {
  json j = json::parse(kQwen3_06B);
  j["rope_scaling"] = {
      {"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 32768}};
  const HfModelConfig c = parse_hf_config(j.dump());
  ASSERT_TRUE(c.rope_scaling);
  EXPECT_EQ(c.rope_scaling->type, "yarn");
  EXPECT_DOUBLE_EQ(c.rope_scaling->factor, 4.0);
  const Qwen3Config q = to_qwen3_config(c);
  EXPECT_TRUE(q.has_yarn());
  EXPECT_FLOAT_EQ(q.yarn_factor, 4.0f);
  EXPECT_EQ(q.yarn_orig_ctx, 32768);
  EXPECT_EQ(q.max_context(), 131072);
}

TEST(HfConfig, ClearErrors) {
  const json base = json::parse(kQwen3_06B);
  json j = base;
  j["architectures"] = {"LlamaForCausalLM"};
  expect_error(j, "LlamaForCausalLM");
  j["architectures"] = {"Qwen3MoeForCausalLM"};  // MoE needs its expert fields
  expect_error(j, "num_experts");
  j["num_experts"] = 128;
  j["num_experts_per_tok"] = 8;
  j["moe_intermediate_size"] = 768;
  j["mlp_only_layers"] = {3};
  expect_error(j, "mlp_only_layers");
  j["mlp_only_layers"] = json::array();
  j["decoder_sparse_step"] = 2;
  expect_error(j, "decoder_sparse_step");
  j["decoder_sparse_step"] = 1;
  j["norm_topk_prob"] = true;
  EXPECT_EQ(parse_hf_config(j.dump()).num_experts, 128);
  j = base;
  j.erase("architectures");
  expect_error(j, "architectures");
  j = base;
  j.erase("hidden_size");
  expect_error(j, "hidden_size");
  // One field of the official config made bad at a time, and a word its error names.
  struct BadField {
    const char* key;
    json value;
    const char* needle;
  };
  const BadField bad_fields[] = {
      {"num_hidden_layers", "28", "num_hidden_layers"},
      {"num_hidden_layers", -1, "out of range"},
      {"num_key_value_heads", 5, "multiple"},
      {"head_dim", 127, "even"},
      {"attention_bias", true, "attention_bias"},
      {"use_sliding_window", true, "use_sliding_window"},
      {"hidden_act", "gelu", "hidden_act"},
      {"rope_scaling", {{"rope_type", "linear"}, {"factor", 2.0}}, "linear"},
      {"rope_scaling", {{"rope_type", "yarn"}}, "factor"},
      {"rope_scaling", 3, "rope_scaling"},
      {"rms_norm_eps", 0, "rms_norm_eps"},
      {"tie_word_embeddings", "yes", "tie_word_embeddings"},
  };
  for (const BadField& b : bad_fields) {
    j = base;
    j[b.key] = b.value;
    expect_error(j, b.needle);
  }
  EXPECT_THROW(parse_hf_config("{"), HfConfigError);
  EXPECT_THROW(parse_hf_config("[]"), HfConfigError);
  EXPECT_THROW(read_hf_config("/nonexistent/folder"), HfConfigError);
}

TEST(HfGenerationConfig, ReadsTheOfficialValues) {
  const HfGenerationDefaults g = parse_generation_config(R"({
    "bos_token_id": 151643, "do_sample": true, "eos_token_id": [151645, 151643],
    "pad_token_id": 151643, "temperature": 0.6, "top_k": 20, "top_p": 0.95,
    "transformers_version": "4.51.0"})");
  EXPECT_EQ(g.do_sample, true);
  EXPECT_DOUBLE_EQ(*g.temperature, 0.6);
  EXPECT_EQ(*g.top_k, 20);
  EXPECT_DOUBLE_EQ(*g.top_p, 0.95);
  EXPECT_FALSE(g.min_p);
  EXPECT_FALSE(g.repetition_penalty);
  EXPECT_EQ(g.eos_token_ids, (std::vector<int32_t>{151645, 151643}));
  EXPECT_EQ(g.pad_token_id, 151643);
  EXPECT_EQ(g.bos_token_id, 151643);

  EXPECT_THROW(parse_generation_config(R"({"temperature": -1})"), HfConfigError);
  EXPECT_THROW(parse_generation_config(R"({"top_p": 1.5})"), HfConfigError);
  EXPECT_THROW(parse_generation_config(R"({"top_k": 0.5})"), HfConfigError);
  EXPECT_THROW(parse_generation_config(R"({"eos_token_id": "x"})"), HfConfigError);
  EXPECT_FALSE(read_generation_config("/nonexistent/folder").temperature);
}

TEST(HfLoadQuantize, ParsesTheOptionValues) {
  EXPECT_EQ(parse_load_quantize("q4_0"), GgmlType::Q4_0);
  EXPECT_EQ(parse_load_quantize("Q8_0"), GgmlType::Q8_0);
  EXPECT_EQ(parse_load_quantize("q4_k"), GgmlType::Q4_K);
  EXPECT_EQ(parse_load_quantize("none"), std::nullopt);
  EXPECT_THROW(parse_load_quantize("q3_k"), std::invalid_argument);
}

}  // namespace
}  // namespace qwen3::hf
