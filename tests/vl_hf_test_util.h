// Test helper: the vision tower of a generated mmproj GGUF written back as a Hugging Face
// Qwen3-VL checkpoint names and shapes it (`model.visual.*`), through a name map of its own,
// independent of the converter's, so a conversion test compares two separate readings.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "convert/hf_checkpoint_writer.h"
#include "gguf/gguf_reader.h"
#include "vision/vision_config.h"

namespace qwen3::test {

// The `model.visual.*` tensors of a generated mmproj, as transformers names and shapes them
// (the patch kernel [E, 3, 2, 16, 16] holds GGUF's two temporal slices interleaved).
inline void add_vision_specs(const gguf::GgufFile& src, const vision::VisionConfig& c,
                             std::vector<hf::SafetensorsSpec>* specs) {
  const std::string v = "model.visual.";
  auto name = [&](const std::string& g) -> std::string {
    if (g == "v.patch_embd.bias") return v + "patch_embed.proj.bias";
    if (g == "v.position_embd.weight") return v + "pos_embed.weight";
    if (g == "v.post_ln.weight") return v + "merger.norm.weight";
    if (g == "v.post_ln.bias") return v + "merger.norm.bias";
    if (g.rfind("mm.", 0) == 0)
      return v + "merger.linear_fc" + (g[3] == '0' ? "1" : "2") + g.substr(4);
    const std::map<std::string, std::string> blk = {{"ln1", "norm1"},
                                                    {"ln2", "norm2"},
                                                    {"attn_qkv", "attn.qkv"},
                                                    {"attn_out", "attn.proj"},
                                                    {"ffn_up", "mlp.linear_fc1"},
                                                    {"ffn_down", "mlp.linear_fc2"},
                                                    {"norm", "norm"},
                                                    {"fc1", "linear_fc1"},
                                                    {"fc2", "linear_fc2"}};
    const bool ds = g.rfind("v.deepstack.", 0) == 0;
    const size_t at = ds ? 12 : 6, a = g.find('.', at), b = g.rfind('.');
    int idx = std::stoi(g.substr(at, a - at));
    if (ds)
      idx = static_cast<int>(std::find(c.deepstack_layers.begin(), c.deepstack_layers.end(), idx) -
                             c.deepstack_layers.begin());
    auto it = blk.find(g.substr(a + 1, b - a - 1));
    if (it == blk.end()) return "";
    return v + (ds ? "deepstack_merger_list." : "blocks.") + std::to_string(idx) + "." +
           it->second + g.substr(b);
  };
  const int64_t E = c.n_embd, ps = c.patch_size;
  const auto* p0 = static_cast<const float*>(src.tensor("v.patch_embd.weight")->data);
  const auto* p1 = static_cast<const float*>(src.tensor("v.patch_embd.weight.1")->data);
  specs->push_back(
      {v + "patch_embed.proj.weight", GgmlType::F32, {E, 3, 2, ps, ps}, [=](void* dst, size_t) {
         auto* o = static_cast<float*>(dst);
         const int64_t n = ps * ps;
         for (int64_t i = 0; i < E * 3; ++i) {
           std::memcpy(o + (i * 2) * n, p0 + i * n, n * sizeof(float));
           std::memcpy(o + (i * 2 + 1) * n, p1 + i * n, n * sizeof(float));
         }
       }});
  for (const auto& t : src.tensors()) {
    if (t.name.rfind("v.patch_embd.weight", 0) == 0) continue;
    const std::string n = name(t.name);
    ASSERT_FALSE(n.empty()) << t.name;
    const void* data = t.data;
    const size_t nb = t.nbytes;
    specs->push_back({n, GgmlType::F32, std::vector<int64_t>(t.dims.rbegin(), t.dims.rend()),
                      [=](void* dst, size_t) { std::memcpy(dst, data, nb); }});
  }
}

}  // namespace qwen3::test
