#include "convert/hf_vl_writer.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "convert/hf_checkpoint_writer.h"
#include "gguf/gguf_reader.h"
#include "model/hf_config.h"
#include "model/hf_tensor_names.h"
#include "model/qwen3_config.h"
#include "vision/vision_config.h"

namespace qwen3::hf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// mmproj name -> transformers' `model.visual.*` name ("" if unknown).
std::string visual_name(const std::string& g, const vision::VisionConfig& c) {
  const std::string v = "model.visual.";
  if (g == "v.patch_embd.bias") return v + "patch_embed.proj.bias";
  if (g == "v.position_embd.weight") return v + "pos_embed.weight";
  if (g == "v.post_ln.weight") return v + "merger.norm.weight";
  if (g == "v.post_ln.bias") return v + "merger.norm.bias";
  if (g.rfind("mm.0.", 0) == 0) return v + "merger.linear_fc1." + g.substr(5);
  if (g.rfind("mm.2.", 0) == 0) return v + "merger.linear_fc2." + g.substr(5);
  static const std::map<std::string, std::string> kBlock = {{"ln1", "norm1"},
                                                            {"ln2", "norm2"},
                                                            {"attn_qkv", "attn.qkv"},
                                                            {"attn_out", "attn.proj"},
                                                            {"ffn_up", "mlp.linear_fc1"},
                                                            {"ffn_down", "mlp.linear_fc2"}};
  static const std::map<std::string, std::string> kDeep = {
      {"norm", "norm"}, {"fc1", "linear_fc1"}, {"fc2", "linear_fc2"}};
  const bool ds = g.rfind("v.deepstack.", 0) == 0;
  if (!ds && g.rfind("v.blk.", 0) != 0) return "";
  const size_t at = ds ? 12 : 6, a = g.find('.', at), b = g.rfind('.');
  if (a == std::string::npos || b <= a) return "";
  int idx = std::stoi(g.substr(at, a - at));
  if (ds) {
    auto it = std::find(c.deepstack_layers.begin(), c.deepstack_layers.end(), idx);
    if (it == c.deepstack_layers.end()) return "";
    idx = static_cast<int>(it - c.deepstack_layers.begin());
  }
  const auto& table = ds ? kDeep : kBlock;
  auto it = table.find(g.substr(a + 1, b - a - 1));
  if (it == table.end()) return "";
  return v + (ds ? "deepstack_merger_list." : "blocks.") + std::to_string(idx) + "." + it->second +
         g.substr(b);
}

SafetensorsSpec copy_spec(const std::string& name, const gguf::TensorInfo& t) {
  if (t.type != GgmlType::F32 && t.type != GgmlType::F16)
    throw std::runtime_error(t.name + ": only F32 and F16 tensors go into a Hugging Face folder");
  const void* data = t.data;
  const size_t nb = t.nbytes;
  return {name, t.type, std::vector<int64_t>(t.dims.rbegin(), t.dims.rend()),
          [data, nb](void* dst, size_t) { std::memcpy(dst, data, nb); }};
}

}  // namespace

void write_hf_vl_folder(const std::string& text_gguf, const std::string& mmproj_gguf,
                        const std::string& folder, const std::string& tokenizer_dir) {
  const gguf::GgufFile text = gguf::GgufFile::open(text_gguf);
  const gguf::GgufFile mm = gguf::GgufFile::open(mmproj_gguf);
  if (text.get_string("general.architecture") != "qwen3vl")
    throw std::runtime_error(text_gguf + ": not a qwen3vl text model");
  const Qwen3Config qc = Qwen3Config::from_gguf(text);
  const vision::VisionConfig vc = vision::VisionConfig::from_gguf(mm);
  fs::create_directories(folder);

  std::vector<SafetensorsSpec> specs;
  for (const auto& t : text.tensors()) {
    const auto n = hf_name_for(t.name);  // "model.X" / "lm_head.weight"
    if (!n) throw std::runtime_error(text_gguf + ": unexpected tensor " + t.name);
    const std::string lm = n->rfind("model.", 0) == 0 ? "model.language_model." + n->substr(6) : *n;
    specs.push_back(copy_spec(lm, t));
  }
  const gguf::TensorInfo* p0 = mm.tensor("v.patch_embd.weight");
  const gguf::TensorInfo* p1 = mm.tensor("v.patch_embd.weight.1");
  if (!p0 || !p1 || p0->type != p1->type || p0->nbytes != p1->nbytes)
    throw std::runtime_error(mmproj_gguf + ": missing or mismatched v.patch_embd.weight(.1)");
  {  // [E, 3, 2, ps, ps]: GGUF's two temporal slices interleaved
    SafetensorsSpec s = copy_spec("model.visual.patch_embed.proj.weight", *p0);
    const int64_t E = vc.n_embd, ps = vc.patch_size;
    s.shape = {E, 3, 2, ps, ps};
    const size_t blk = static_cast<size_t>(ps * ps) * ggml_type_info(p0->type).type_size;
    const auto* a = static_cast<const uint8_t*>(p0->data);
    const auto* b = static_cast<const uint8_t*>(p1->data);
    s.fill = [a, b, blk, E](void* dst, size_t) {
      auto* o = static_cast<uint8_t*>(dst);
      for (int64_t i = 0; i < E * 3; ++i) {
        std::memcpy(o + (i * 2) * blk, a + i * blk, blk);
        std::memcpy(o + (i * 2 + 1) * blk, b + i * blk, blk);
      }
    };
    specs.push_back(std::move(s));
  }
  for (const auto& t : mm.tensors()) {
    if (t.name.rfind("v.patch_embd.weight", 0) == 0) continue;
    const std::string n = visual_name(t.name, vc);
    if (n.empty()) throw std::runtime_error(mmproj_gguf + ": unexpected tensor " + t.name);
    specs.push_back(copy_spec(n, t));
  }
  write_safetensors((fs::path(folder) / "model.safetensors").string(), specs);

  HfModelConfig hc = from_qwen3_config(qc);
  hc.torch_dtype = "float32";
  json tc = json::parse(qwen3_config_json(hc));
  tc.erase("architectures");
  tc["model_type"] = "qwen3_vl_text";
  std::vector<int64_t> sec = text.get_int_array("qwen3vl.rope.dimension_sections");
  if (sec.size() == 4 && sec[3] == 0) sec.pop_back();
  tc["rope_scaling"] = {
      {"mrope_interleaved", true}, {"mrope_section", sec}, {"rope_type", "default"}};
  json j = {{"architectures", {"Qwen3VLForConditionalGeneration"}},
            {"model_type", "qwen3_vl"},
            {"tie_word_embeddings", qc.tied_embeddings},
            {"image_token_id", 151655},
            {"vision_start_token_id", 151652},
            {"vision_end_token_id", 151653},
            {"text_config", tc},
            {"vision_config",
             {{"model_type", "qwen3_vl"},
              {"depth", vc.n_layers},
              {"hidden_size", vc.n_embd},
              {"intermediate_size", vc.n_ff},
              {"num_heads", vc.n_head},
              {"hidden_act", "gelu_pytorch_tanh"},
              {"in_channels", 3},
              {"patch_size", vc.patch_size},
              {"spatial_merge_size", vc.merge},
              {"temporal_patch_size", 2},
              {"num_position_embeddings", vc.n_pos_side * vc.n_pos_side},
              {"out_hidden_size", vc.proj_dim},
              {"deepstack_visual_indexes", vc.deepstack_layers}}}};
  std::ofstream(fs::path(folder) / "config.json") << j.dump(2) << "\n";
  json pp = {{"image_mean", {vc.mean[0], vc.mean[1], vc.mean[2]}},
             {"image_std", {vc.std[0], vc.std[1], vc.std[2]}},
             {"patch_size", vc.patch_size},
             {"merge_size", vc.merge},
             {"temporal_patch_size", 2}};
  std::ofstream(fs::path(folder) / "preprocessor_config.json") << pp.dump(2) << "\n";
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
    const fs::path src = fs::path(tokenizer_dir) / f;
    if (fs::exists(src))
      fs::copy_file(src, fs::path(folder) / f, fs::copy_options::overwrite_existing);
  }
}

}  // namespace qwen3::hf
