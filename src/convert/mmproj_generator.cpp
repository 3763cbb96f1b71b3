#include "convert/mmproj_generator.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "convert/random_model.h"
#include "gguf/gguf_writer.h"
#include "kernels/fp16.h"

namespace qwen3::vision {

namespace {

struct Spec {
  std::string name;
  std::vector<int64_t> dims;
  float center, half_width;
};

std::vector<Spec> tensor_specs(const VisionConfig& c) {
  const float s3 = std::sqrt(3.0f);
  const int64_t E = c.n_embd, F = c.n_ff, P = c.proj_dim, M = 4 * E, ps = c.patch_size;
  auto mat = [&](std::string n, int64_t in, int64_t out, float gain = 1.0f) {
    return Spec{std::move(n), {in, out}, 0.0f, gain * s3 / std::sqrt(static_cast<float>(in))};
  };
  auto vec = [](std::string n, int64_t len, float center, float hw) {
    return Spec{std::move(n), {len}, center, hw};
  };
  std::vector<Spec> t;
  const float patch_hw = s3 / std::sqrt(2.0f * 3 * ps * ps);  // two kernels are summed
  t.push_back({"v.patch_embd.weight", {ps, ps, 3, E}, 0.0f, patch_hw});
  t.push_back({"v.patch_embd.weight.1", {ps, ps, 3, E}, 0.0f, patch_hw});
  t.push_back(vec("v.patch_embd.bias", E, 0.0f, 0.1f));
  t.push_back({"v.position_embd.weight", {E, 1LL * c.n_pos_side * c.n_pos_side}, 0.0f, 0.5f});
  const float res = 1.0f / std::sqrt(2.0f * static_cast<float>(c.n_layers));
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string p = "v.blk." + std::to_string(i) + ".";
    t.push_back(vec(p + "ln1.weight", E, 1.0f, 0.1f));
    t.push_back(vec(p + "ln1.bias", E, 0.0f, 0.1f));
    t.push_back(mat(p + "attn_qkv.weight", E, 3 * E));
    t.push_back(vec(p + "attn_qkv.bias", 3 * E, 0.0f, 0.1f));
    t.push_back(mat(p + "attn_out.weight", E, E, res));
    t.push_back(vec(p + "attn_out.bias", E, 0.0f, 0.05f));
    t.push_back(vec(p + "ln2.weight", E, 1.0f, 0.1f));
    t.push_back(vec(p + "ln2.bias", E, 0.0f, 0.1f));
    t.push_back(mat(p + "ffn_up.weight", E, F));
    t.push_back(vec(p + "ffn_up.bias", F, 0.0f, 0.1f));
    t.push_back(mat(p + "ffn_down.weight", F, E, res));
    t.push_back(vec(p + "ffn_down.bias", E, 0.0f, 0.05f));
  }
  for (int l : c.deepstack_layers) {
    const std::string p = "v.deepstack." + std::to_string(l) + ".";
    t.push_back(vec(p + "norm.weight", M, 1.0f, 0.1f));
    t.push_back(vec(p + "norm.bias", M, 0.0f, 0.1f));
    t.push_back(mat(p + "fc1.weight", M, M));
    t.push_back(vec(p + "fc1.bias", M, 0.0f, 0.1f));
    t.push_back(mat(p + "fc2.weight", M, P));
    t.push_back(vec(p + "fc2.bias", P, 0.0f, 0.1f));
  }
  t.push_back(vec("v.post_ln.weight", E, 1.0f, 0.1f));
  t.push_back(vec("v.post_ln.bias", E, 0.0f, 0.1f));
  t.push_back(mat("mm.0.weight", M, M));
  t.push_back(vec("mm.0.bias", M, 0.0f, 0.1f));
  t.push_back(mat("mm.2.weight", M, P));
  t.push_back(vec("mm.2.bias", P, 0.0f, 0.1f));
  return t;
}

}  // namespace

void set_mmproj_metadata(gguf::GgufWriter& w, const VisionConfig& c, GgmlType file_type,
                         const std::string& name) {
  const bool f16 = file_type == GgmlType::F16;
  w.set_string("general.architecture", "clip");
  w.set_string("general.type", "mmproj");
  w.set_string("general.name", name);
  w.set_u32("general.file_type", f16 ? 1 : 0);
  w.set_u32("general.alignment", 32);
  w.set_bool("clip.has_vision_encoder", true);
  w.set_u32("clip.vision.projection_dim", static_cast<uint32_t>(c.proj_dim));
  w.set_u32("clip.vision.image_size", static_cast<uint32_t>(c.n_pos_side * c.patch_size));
  w.set_u32("clip.vision.patch_size", static_cast<uint32_t>(c.patch_size));
  w.set_u32("clip.vision.embedding_length", static_cast<uint32_t>(c.n_embd));
  w.set_u32("clip.vision.feed_forward_length", static_cast<uint32_t>(c.n_ff));
  w.set_u32("clip.vision.block_count", static_cast<uint32_t>(c.n_layers));
  w.set_u32("clip.vision.attention.head_count", static_cast<uint32_t>(c.n_head));
  w.set_f32_array("clip.vision.image_mean", {c.mean[0], c.mean[1], c.mean[2]});
  w.set_f32_array("clip.vision.image_std", {c.std[0], c.std[1], c.std[2]});
  w.set_string("clip.projector_type", "qwen3vl_merger");
  w.set_bool("clip.use_gelu", true);
  w.set_u32("clip.vision.spatial_merge_size", static_cast<uint32_t>(c.merge));
  w.set_f32("clip.vision.attention.layer_norm_epsilon", c.eps);
}

GgmlType mmproj_tensor_type(const std::string& name, size_t n_dims, GgmlType file_type) {
  // As the converter: matrices F16 in an F16 file, 1-D tensors F32. The position
  // embedding stays F32 (llama.cpp interpolates it in F32).
  const bool half = file_type == GgmlType::F16 && n_dims >= 2 && name != "v.position_embd.weight";
  return half ? GgmlType::F16 : GgmlType::F32;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> mmproj_tensor_shapes(
    const VisionConfig& c) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const Spec& s : tensor_specs(c)) out.emplace_back(s.name, s.dims);
  return out;
}

void generate_random_mmproj(const MmprojOptions& opts, const std::string& path) {
  const VisionConfig& c = opts.config;
  c.validate();
  if (opts.type != GgmlType::F32 && opts.type != GgmlType::F16)
    throw std::invalid_argument("a mmproj is written as f32 or f16");
  gguf::GgufWriter w;
  set_mmproj_metadata(w, c, opts.type, "qwen3vl-random");
  for (const Spec& s : tensor_specs(c)) {
    const GgmlType type = mmproj_tensor_type(s.name, s.dims.size(), opts.type);
    const bool half = type == GgmlType::F16;
    int64_t n = 1;
    for (int64_t d : s.dims) n *= d;
    const uint64_t seed = opts.seed;
    w.add_tensor_lazy(s.name, type, s.dims, [=](void* dst, size_t) {
      for (int64_t i = 0; i < n; ++i) {
        const float v =
            s.center + random_weight(seed, s.name, static_cast<uint64_t>(i), s.half_width);
        if (half)
          static_cast<uint16_t*>(dst)[i] = fp32_to_fp16(v);
        else
          static_cast<float*>(dst)[i] = v;
      }
    });
  }
  w.write(path);
}

}  // namespace qwen3::vision
