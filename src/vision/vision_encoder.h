// The Qwen3-VL vision encoder on our kernels: patch embedding (temporal patch 2 of a still
// image), learned + 2-D rotary positions, the ViT blocks, the 2x2 patch merger and the
// DeepStack features, from a mmproj GGUF (llama.cpp's layout, F32 or F16 weights).
// Output rows are what llama.cpp's libmtmd hands the text model: per merged token the
// projection followed by one projection per DeepStack layer. Facts: docs/vision.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernels/thread_pool.h"
#include "vision/image_preprocess.h"
#include "vision/vision_config.h"

namespace qwen3::vision {

struct ImageEmbedding {
  int grid_w = 0;           // merged tokens across (pixels / (patch x merge))
  int grid_h = 0;           // merged tokens down
  int dim = 0;              // floats per token: proj_dim x (1 + DeepStack layers)
  std::vector<float> data;  // grid_h * grid_w rows of dim, row-major (y, then x)
  int n_tokens() const { return grid_w * grid_h; }
};

class VisionEncoder {
 public:
  // Maps the mmproj file and checks every tensor's name, type and shape.
  static std::unique_ptr<VisionEncoder> load(const std::string& mmproj_path);
  ~VisionEncoder();

  const VisionConfig& config() const;
  // Decoded image -> preprocessed pixels -> embeddings.
  ImageEmbedding encode(const RgbImage& image, ThreadPool& pool) const;
  // Preprocessed pixels (sides multiples of patch x merge) -> embeddings.
  ImageEmbedding encode(const PixelTensor& pixels, ThreadPool& pool) const;

 private:
  struct Impl;
  explicit VisionEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qwen3::vision
