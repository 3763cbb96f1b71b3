// HF <-> GGUF tensor names: every Qwen3 tensor of every layer, both ways, and junk rejected.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "convert/hf_checkpoint_writer.h"
#include "model/hf_tensor_names.h"
#include "shape_util.h"

namespace qwen3::hf {
namespace {

TEST(HfTensorNames, MapsTheQwen3Names) {
  EXPECT_EQ(gguf_name_for("model.embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(gguf_name_for("model.norm.weight"), "output_norm.weight");
  EXPECT_EQ(gguf_name_for("lm_head.weight"), "output.weight");
  const std::pair<const char*, const char*> layer[] = {
      {"self_attn.q_proj", "attn_q"},      {"self_attn.k_proj", "attn_k"},
      {"self_attn.v_proj", "attn_v"},      {"self_attn.o_proj", "attn_output"},
      {"self_attn.q_norm", "attn_q_norm"}, {"self_attn.k_norm", "attn_k_norm"},
      {"input_layernorm", "attn_norm"},    {"post_attention_layernorm", "ffn_norm"},
      {"mlp.gate_proj", "ffn_gate"},       {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"}};
  for (int l : {0, 1, 9, 10, 27, 63, 123456}) {
    for (const auto& [hf, gg] : layer) {
      const std::string h = "model.layers." + std::to_string(l) + "." + hf + ".weight";
      const std::string g = "blk." + std::to_string(l) + "." + gg + ".weight";
      EXPECT_EQ(gguf_name_for(h), g);
      EXPECT_EQ(hf_name_for(g), h);
    }
  }
}

TEST(HfTensorNames, EveryCheckpointTensorMapsOneToOne) {
  const HfModelConfig c = test::hf_shape({12, 4, 2, 1, 2, 8, 10, 0});
  std::set<std::string> seen;
  for (const auto& [name, shape] : qwen3_hf_tensor_shapes(c)) {
    auto g = gguf_name_for(name);
    ASSERT_TRUE(g) << name;
    EXPECT_TRUE(seen.insert(*g).second) << *g;
    EXPECT_EQ(hf_name_for(*g), name);
  }
  EXPECT_EQ(seen.size(), 3 + 11 * 12u);
}

TEST(HfTensorNames, RejectsOtherNames) {
  for (const char* bad :
       {"", "model.layers.0.self_attn.q_proj.bias", "model.layers.x.mlp.up_proj.weight",
        "model.layers..mlp.up_proj.weight", "model.layers.01.mlp.up_proj.weight",
        "model.layers.0.mlp.experts.x.up_proj.weight", "model.layers.0.mlp.experts.0.up.weight",
        "model.layers.0", "model.layers.0.self_attn.rotary_emb.inv_freq", "visual.blocks.0.weight",
        "model.embed_tokens.weight.x", "blk.0.attn_q.weight"}) {
    EXPECT_FALSE(gguf_name_for(bad)) << bad;
  }
  EXPECT_FALSE(hf_name_for("blk.a.attn_q.weight"));
  EXPECT_FALSE(hf_name_for("blk.0.ffn_up.x.weight"));
  // Qwen3 MoE: the router and the per-expert tensors, both ways.
  EXPECT_EQ(gguf_name_for("model.layers.2.mlp.gate.weight"), "blk.2.ffn_gate_inp.weight");
  EXPECT_EQ(gguf_name_for("model.layers.2.mlp.experts.17.down_proj.weight"),
            "blk.2.ffn_down.17.weight");
  EXPECT_EQ(hf_name_for("blk.2.ffn_up.127.weight"),
            "model.layers.2.mlp.experts.127.up_proj.weight");
  EXPECT_FALSE(hf_name_for("model.embed_tokens.weight"));
}

}  // namespace
}  // namespace qwen3::hf
