#include "convert/mmproj_convert.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "convert/mmproj_generator.h"
#include "gguf/gguf_writer.h"
#include "model/convert_tensor.h"
#include "model/safetensors_checkpoint.h"

namespace qwen3::hf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const fs::path& p, bool required) {
  std::ifstream in(p);
  if (!in) {
    if (required) throw std::runtime_error(p.string() + ": cannot read");
    return json::object();
  }
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error(p.string() + ": not valid JSON (" + e.what() + ")");
  }
}

// The GGUF name of a vision tensor (HF name without "model."), "" if it is not one.
std::string gguf_vision_name(const std::string& hf, const vision::VisionConfig& c) {
  if (hf == "visual.patch_embed.proj.bias") return "v.patch_embd.bias";
  if (hf == "visual.pos_embed.weight") return "v.position_embd.weight";
  static const std::map<std::string, std::string> block = {
      {"norm1.weight", "ln1.weight"},
      {"norm1.bias", "ln1.bias"},
      {"norm2.weight", "ln2.weight"},
      {"norm2.bias", "ln2.bias"},
      {"attn.qkv.weight", "attn_qkv.weight"},
      {"attn.qkv.bias", "attn_qkv.bias"},
      {"attn.proj.weight", "attn_out.weight"},
      {"attn.proj.bias", "attn_out.bias"},
      {"mlp.linear_fc1.weight", "ffn_up.weight"},
      {"mlp.linear_fc1.bias", "ffn_up.bias"},
      {"mlp.linear_fc2.weight", "ffn_down.weight"},
      {"mlp.linear_fc2.bias", "ffn_down.bias"}};
  static const std::map<std::string, std::string> merger = {
      {"norm.weight", "norm.weight"},      {"norm.bias", "norm.bias"},
      {"linear_fc1.weight", "fc1.weight"}, {"linear_fc1.bias", "fc1.bias"},
      {"linear_fc2.weight", "fc2.weight"}, {"linear_fc2.bias", "fc2.bias"}};
  auto indexed = [&](const std::string& prefix, int* index, std::string* rest) {
    if (hf.rfind(prefix, 0) != 0) return false;
    const size_t dot = hf.find('.', prefix.size());
    if (dot == std::string::npos || dot == prefix.size()) return false;
    const std::string num = hf.substr(prefix.size(), dot - prefix.size());
    if (num.find_first_not_of("0123456789") != std::string::npos || num.size() > 6) return false;
    *index = std::stoi(num);
    *rest = hf.substr(dot + 1);
    return true;
  };
  int i = 0;
  std::string rest;
  if (indexed("visual.blocks.", &i, &rest)) {
    const auto it = block.find(rest);
    if (it == block.end() || i >= c.n_layers) return "";
    return "v.blk." + std::to_string(i) + "." + it->second;
  }
  if (indexed("visual.deepstack_merger_list.", &i, &rest)) {
    const auto it = merger.find(rest);
    if (it == merger.end() || i >= static_cast<int>(c.deepstack_layers.size())) return "";
    // The absolute block index (deepstack_visual_indexes[i]), as llama.cpp's converter.
    return "v.deepstack." + std::to_string(c.deepstack_layers[static_cast<size_t>(i)]) + "." +
           it->second;
  }
  if (hf == "visual.merger.norm.weight") return "v.post_ln.weight";
  if (hf == "visual.merger.norm.bias") return "v.post_ln.bias";
  if (hf == "visual.merger.linear_fc1.weight") return "mm.0.weight";
  if (hf == "visual.merger.linear_fc1.bias") return "mm.0.bias";
  if (hf == "visual.merger.linear_fc2.weight") return "mm.2.weight";
  if (hf == "visual.merger.linear_fc2.bias") return "mm.2.bias";
  return "";
}

}  // namespace

vision::VisionConfig read_hf_vision_config(const std::string& folder) {
  const fs::path dir(folder);
  const json cfg = read_json(dir / "config.json", true);
  const std::string where = (dir / "config.json").string() + ": ";
  if (!cfg.contains("vision_config") || !cfg["vision_config"].is_object())
    throw std::runtime_error(where + "no vision_config (not a Qwen3-VL folder)");
  const json& v = cfg["vision_config"];
  const json t = cfg.contains("text_config") && cfg["text_config"].is_object()
                     ? cfg["text_config"]
                     : cfg;  // llama.cpp: text keys fall back to the top level
  auto num = [&](const json& o, const char* key, const char* section) -> int64_t {
    if (!o.contains(key) || !o[key].is_number_integer())
      throw std::runtime_error(where + "missing or bad " + section + "." + key);
    const int64_t x = o[key].get<int64_t>();
    if (x <= 0 || x > (1 << 24))
      throw std::runtime_error(where + section + "." + key + " out of range");
    return x;
  };
  vision::VisionConfig c;
  c.n_embd = static_cast<int>(num(v, "hidden_size", "vision_config"));
  c.n_head = static_cast<int>(num(v, "num_heads", "vision_config"));
  c.n_ff = static_cast<int>(num(v, "intermediate_size", "vision_config"));
  c.n_layers = static_cast<int>(num(v, "depth", "vision_config"));
  c.patch_size = static_cast<int>(num(v, "patch_size", "vision_config"));
  c.merge = static_cast<int>(num(v, "spatial_merge_size", "vision_config"));
  c.proj_dim = static_cast<int>(num(t, "hidden_size", "text_config"));
  const int64_t n_pos = v.contains("num_position_embeddings")
                            ? num(v, "num_position_embeddings", "vision_config")
                            : 2304;
  c.n_pos_side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(n_pos))));
  if (1LL * c.n_pos_side * c.n_pos_side != n_pos)
    throw std::runtime_error(where + "vision_config.num_position_embeddings is not a square");
  if (v.contains("temporal_patch_size") && v["temporal_patch_size"] != 2)
    throw std::runtime_error(where + "vision_config.temporal_patch_size must be 2");
  if (v.contains("out_hidden_size") && v["out_hidden_size"] != c.proj_dim)
    throw std::runtime_error(where +
                             "vision_config.out_hidden_size differs from the text "
                             "hidden_size");
  c.eps = t.contains("rms_norm_eps") && t["rms_norm_eps"].is_number()
              ? t["rms_norm_eps"].get<float>()
              : 1e-6f;
  c.deepstack_layers.clear();
  if (v.contains("deepstack_visual_indexes")) {
    if (!v["deepstack_visual_indexes"].is_array())
      throw std::runtime_error(where + "vision_config.deepstack_visual_indexes is not a list");
    for (const json& x : v["deepstack_visual_indexes"]) {
      if (!x.is_number_integer())
        throw std::runtime_error(where + "bad vision_config.deepstack_visual_indexes");
      c.deepstack_layers.push_back(x.get<int>());
    }
  }
  const json pre = read_json(dir / "preprocessor_config.json", false);
  for (const char* key : {"image_mean", "image_std"}) {
    if (!pre.contains(key)) continue;
    const json& a = pre[key];
    if (!a.is_array() || a.size() != 3)
      throw std::runtime_error((dir / "preprocessor_config.json").string() + ": bad " + key);
    float* dst = std::strcmp(key, "image_mean") == 0 ? c.mean : c.std;
    for (int i = 0; i < 3; ++i) dst[i] = a[static_cast<size_t>(i)].get<float>();
  }
  try {
    c.validate();
  } catch (const std::exception& e) {
    throw std::runtime_error(where + e.what());
  }
  return c;
}

size_t convert_hf_to_mmproj(const std::string& folder, const std::string& out_path,
                            GgmlType file_type, int n_threads) {
  if (file_type != GgmlType::F32 && file_type != GgmlType::F16)
    throw std::invalid_argument("a mmproj is written as f32 or f16");
  const vision::VisionConfig c = read_hf_vision_config(folder);
  auto ck = std::make_shared<SafetensorsCheckpoint>(SafetensorsCheckpoint::open(folder));
  // Source of each GGUF tensor; the patch kernel is one HF tensor split in two.
  std::map<std::string, const SafetensorsTensor*> src;
  const SafetensorsTensor* patch = nullptr;
  for (const std::string& name : ck->names()) {
    std::string n = name;
    if (n.rfind("model.visual.", 0) == 0) n = n.substr(6);
    if (n.rfind("visual.", 0) != 0) continue;  // the language model's tensors
    if (n == "visual.patch_embed.proj.weight") {
      patch = &ck->at(name);
      continue;
    }
    const std::string g = gguf_vision_name(n, c);
    if (g.empty())
      throw std::runtime_error(folder + ": tensor '" + name +
                               "' is not part of a Qwen3-VL vision tower of this config");
    src[g] = &ck->at(name);
  }
  const int64_t E = c.n_embd, ps = c.patch_size;
  if (!patch) throw std::runtime_error(folder + ": missing visual.patch_embed.proj.weight");
  if (patch->shape != std::vector<int64_t>{E, 3, 2, ps, ps})
    throw std::runtime_error(folder + ": " + patch->name + " is not [" + std::to_string(E) +
                             ", 3, 2, " + std::to_string(ps) + ", " + std::to_string(ps) + "]");
  const auto shapes = vision::mmproj_tensor_shapes(c);
  for (const auto& [g, dims] : shapes) {
    if (g == "v.patch_embd.weight" || g == "v.patch_embd.weight.1") continue;
    const auto it = src.find(g);
    if (it == src.end()) throw std::runtime_error(folder + ": missing the tensor for " + g);
    if (it->second->gguf_dims() != dims) {
      std::string want;
      for (auto d = dims.rbegin(); d != dims.rend(); ++d)
        want += (want.empty() ? "" : ", ") + std::to_string(*d);
      throw std::runtime_error(folder + ": " + it->second->name + " should be [" + want + "]");
    }
  }
  if (src.size() + 2 != shapes.size())
    throw std::runtime_error(folder + ": unexpected vision tensors");

  gguf::GgufWriter w;
  std::string name = fs::path(folder).lexically_normal().filename().string();
  if (name.empty()) name = fs::path(folder).lexically_normal().parent_path().filename().string();
  vision::set_mmproj_metadata(w, c, file_type, name);
  for (const auto& [g, dims] : shapes) {
    const GgmlType type = vision::mmproj_tensor_type(g, dims.size(), file_type);
    if (g == "v.patch_embd.weight" || g == "v.patch_embd.weight.1") {
      // [E, 3, 2, ps, ps] -> the temporal slice t: [E, 3, ps, ps] (llama.cpp's split).
      const int t = g == "v.patch_embd.weight" ? 0 : 1;
      w.add_tensor_lazy(g, type, dims, [patch, t, type, E, ps](void* dst, size_t) {
        const size_t es = ggml_type_info(patch->type).type_size;
        const int64_t blk = ps * ps;
        auto* out = static_cast<uint8_t*>(dst);
        for (int64_t oc = 0; oc < E; ++oc)
          for (int64_t ch = 0; ch < 3; ++ch) {
            const uint8_t* s = patch->data + (((oc * 3 + ch) * 2 + t) * blk) * es;
            convert_rows(patch->type, s, type,
                         out + ((oc * 3 + ch) * blk) * ggml_type_info(type).type_size, blk, 1, 1);
          }
      });
      continue;
    }
    const SafetensorsTensor* s = src.at(g);
    w.add_tensor_lazy(g, type, dims, [ck, s, type, dims, n_threads](void* dst, size_t) {
      const int64_t row = dims[0];
      convert_rows(s->type, s->data, type, dst, row, s->n_elements() / row, n_threads);
      ck->release(*s);
    });
  }
  w.write(out_path);
  return shapes.size();
}

}  // namespace qwen3::hf
