// The shape of a Qwen3-VL vision encoder (the mmproj GGUF of projector type
// `qwen3vl_merger`): named presets for the random-model generator and the reader of
// llama.cpp's `clip.*` keys. Facts: docs/vision.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qwen3::gguf {
class GgufFile;
}

namespace qwen3::vision {

struct VisionConfig {
  int n_embd = 1024;    // clip.vision.embedding_length
  int n_head = 16;      // clip.vision.attention.head_count
  int n_ff = 4096;      // clip.vision.feed_forward_length
  int n_layers = 24;    // clip.vision.block_count
  int proj_dim = 2048;  // clip.vision.projection_dim (the text model's hidden size)
  int patch_size = 16;  // clip.vision.patch_size
  int merge = 2;        // clip.vision.spatial_merge_size
  int n_pos_side = 48;  // sqrt of the learned position embeddings (image_size / patch)
  float eps = 1e-6f;    // clip.vision.attention.layer_norm_epsilon
  float mean[3] = {0.5f, 0.5f, 0.5f};
  float std[3] = {0.5f, 0.5f, 0.5f};
  std::vector<int> deepstack_layers = {5, 11, 17};  // absolute block indexes
  // Pixel budget of the smart resize (llama.cpp: 8 .. 4096 merged tokens).
  int min_tokens = 8;
  int max_tokens = 4096;

  int head_dim() const { return n_embd / n_head; }
  int align() const { return patch_size * merge; }
  long long min_pixels() const { return 1LL * min_tokens * align() * align(); }
  long long max_pixels() const { return 1LL * max_tokens * align() * align(); }
  // Floats per merged output token: the main projection and one per DeepStack layer.
  int out_dim() const { return proj_dim * (1 + static_cast<int>(deepstack_layers.size())); }
  bool is_deepstack(int layer) const;

  // Throws std::invalid_argument naming the bad field.
  void validate() const;

  // "tiny" (64 wide, 4 blocks: tests) or "2b" (Qwen3-VL-2B's encoder; 4B shares it
  // with proj_dim 2560), "8b".
  static VisionConfig preset(std::string_view name);
  static std::vector<std::string> preset_names();
  // From a mmproj GGUF; the DeepStack layers from its `v.deepstack.N.*` tensors.
  static VisionConfig from_gguf(const gguf::GgufFile& f);
};

}  // namespace qwen3::vision
