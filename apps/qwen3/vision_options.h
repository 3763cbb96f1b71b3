// The Qwen3-VL image options of the commands that run a model (run, logits): --mmproj
// (llama.cpp's vision-encoder GGUF) and --image FILE (repeatable), and their loading:
// the encoder checked against the text model, each image decoded and encoded with the
// encoder time measured. One header so each command adds two calls.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/qwen3_model.h"
#include "vision/image_decode.h"
#include "vision/vision_encoder.h"
#include "vision/vl_prompt.h"

namespace qwen3::cli {

struct VisionOptions {
  std::string mmproj;
  std::vector<std::string> images;
};

inline void add_vision_options(CLI::App& app, VisionOptions& o) {
  app.add_option("--mmproj", o.mmproj,
                 "Qwen3-VL vision encoder GGUF (llama.cpp's mmproj file) for --image");
  app.add_option("--image", o.images,
                 "Image file (JPEG, PNG or WebP) for a Qwen3-VL model; repeat for several")
      ->allow_extra_args(false)
      ->type_name("FILE");
}

// The option errors found before any model is loaded.
inline void check_vision_options(const VisionOptions& o) {
  if (!o.images.empty() && o.mmproj.empty())
    throw std::invalid_argument("--image needs --mmproj MMPROJ (the model's vision encoder GGUF)");
  if (o.images.empty() && !o.mmproj.empty())
    throw std::invalid_argument(
        "--mmproj is used only with --image FILE (the images to show the model); give one or "
        "leave --mmproj out");
}

struct EncodedImages {
  std::vector<vision::ImageEmbedding> embeddings;  // one per --image, in order
  double encode_ms = 0;                            // decoding + preprocessing + encoder
  int n_tokens = 0;                                // image tokens of all of them
};

// Nothing without --image and --mmproj; otherwise the mmproj must suit the Qwen3-VL model.
inline EncodedImages encode_image_options(const VisionOptions& o, const Qwen3Config& text,
                                          int n_threads) {
  EncodedImages out;
  if (o.images.empty() && o.mmproj.empty()) return out;
  check_vision_options(o);
  const auto encoder = vision::VisionEncoder::load(o.mmproj);
  vision::check_vision_pair(text, encoder->config());
  ThreadPool pool(n_threads);
  const auto t0 = std::chrono::steady_clock::now();
  for (const std::string& path : o.images) {
    out.embeddings.push_back(encoder->encode(vision::decode_image_file(path), pool));
    out.n_tokens += out.embeddings.back().n_tokens();
  }
  out.encode_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace qwen3::cli
