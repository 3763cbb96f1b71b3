#include "vision/vision_config.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "gguf/gguf_reader.h"

namespace qwen3::vision {

bool VisionConfig::is_deepstack(int layer) const {
  return std::find(deepstack_layers.begin(), deepstack_layers.end(), layer) !=
         deepstack_layers.end();
}

void VisionConfig::validate() const {
  auto req = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("vision encoder: bad " + what);
  };
  req(n_embd > 0 && n_embd <= 65536, "embedding_length " + std::to_string(n_embd));
  req(n_head > 0 && n_embd % n_head == 0, "head_count " + std::to_string(n_head));
  req(head_dim() % 4 == 0 && head_dim() <= 2048,
      "head_dim " + std::to_string(head_dim()) + " (a multiple of 4, at most 2048)");
  req(n_ff > 0 && n_ff <= 1 << 20, "feed_forward_length " + std::to_string(n_ff));
  req(n_layers > 0 && n_layers <= 1024, "block_count " + std::to_string(n_layers));
  req(proj_dim > 0 && proj_dim <= 1 << 20, "projection_dim " + std::to_string(proj_dim));
  req(patch_size > 0 && patch_size <= 1024, "patch_size " + std::to_string(patch_size));
  req(merge == 2, "spatial_merge_size " + std::to_string(merge) + " (only 2 is supported)");
  req(n_pos_side > 0 && n_pos_side <= 4096, "position embedding side");
  req(eps > 0 && eps < 1, "layer_norm_epsilon");
  for (int i = 0; i < 3; ++i) req(std[i] > 0 && std::isfinite(mean[i]), "image_mean/image_std");
  for (int l : deepstack_layers) req(l >= 0 && l < n_layers, "DeepStack layer index");
}

VisionConfig VisionConfig::preset(std::string_view name) {
  VisionConfig c;
  if (name == "2b" || name == "4b") {
    c.proj_dim = name == "2b" ? 2048 : 2560;
  } else if (name == "8b") {
    c.n_embd = 1152, c.n_ff = 4304, c.n_layers = 27, c.proj_dim = 4096;
    c.deepstack_layers = {8, 16, 24};
  } else if (name == "tiny") {
    c.n_embd = 64, c.n_head = 4, c.n_ff = 128, c.n_layers = 4, c.proj_dim = 64;
    c.n_pos_side = 16, c.deepstack_layers = {1, 2};
  } else {
    throw std::invalid_argument("unknown vision preset '" + std::string(name) +
                                "' (known: tiny, 2b, 4b, 8b)");
  }
  return c;
}

std::vector<std::string> VisionConfig::preset_names() {
  return {"tiny", "2b", "4b", "8b"};
}

VisionConfig VisionConfig::from_gguf(const gguf::GgufFile& f) {
  const std::string file = f.path() + ": ";
  const auto proj = f.get_string("clip.projector_type");
  if (!proj) throw std::runtime_error(file + "not a mmproj file (no clip.projector_type)");
  if (*proj != "qwen3vl_merger")
    throw std::runtime_error(file + "unsupported projector type '" + *proj +
                             "' (supported: qwen3vl_merger)");
  auto u = [&](const char* key) -> int {
    const auto v = f.get_uint(key);
    if (!v || *v > (1u << 30)) throw std::runtime_error(file + "missing or bad " + key);
    return static_cast<int>(*v);
  };
  VisionConfig c;
  c.n_embd = u("clip.vision.embedding_length");
  c.n_head = u("clip.vision.attention.head_count");
  c.n_ff = u("clip.vision.feed_forward_length");
  c.n_layers = u("clip.vision.block_count");
  c.proj_dim = u("clip.vision.projection_dim");
  c.patch_size = u("clip.vision.patch_size");
  c.merge = f.has("clip.vision.spatial_merge_size") ? u("clip.vision.spatial_merge_size") : 2;
  const auto eps = f.get_float("clip.vision.attention.layer_norm_epsilon");
  if (!eps) throw std::runtime_error(file + "missing clip.vision.attention.layer_norm_epsilon");
  c.eps = static_cast<float>(*eps);
  const auto mean = f.get_float_array("clip.vision.image_mean");
  const auto sd = f.get_float_array("clip.vision.image_std");
  if (mean.size() < 3 || sd.size() < 3)
    throw std::runtime_error(file + "clip.vision.image_mean/image_std need 3 values");
  for (int i = 0; i < 3; ++i)
    c.mean[i] = static_cast<float>(mean[i]), c.std[i] = static_cast<float>(sd[i]);
  const auto* pos = f.tensor("v.position_embd.weight");
  if (!pos || pos->dims.size() != 2)
    throw std::runtime_error(file + "missing v.position_embd.weight");
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(pos->dims[1]))));
  if (1LL * side * side != pos->dims[1])
    throw std::runtime_error(file + "v.position_embd.weight is not a square grid");
  c.n_pos_side = side;
  c.deepstack_layers.clear();
  for (int l = 0; l < c.n_layers; ++l)
    if (f.tensor("v.deepstack." + std::to_string(l) + ".fc1.weight"))
      c.deepstack_layers.push_back(l);
  try {
    c.validate();
  } catch (const std::exception& e) {
    throw std::runtime_error(file + e.what());
  }
  return c;
}

}  // namespace qwen3::vision
