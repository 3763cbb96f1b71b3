// `qwen3 run --image`: one reply to a prompt with images on a Qwen3-VL model, streamed to
// stdout, with the image token count and the encoder time in the stats line on stderr.
// The prompt is one user turn whose content is the images then the text (the Qwen3-VL
// template's structure: vision/vl_prompt.h); the user's text is never parsed for special
// tokens. Generation is the engine's own loop (engine::Generator and Sampler) over a
// token backend that feeds the image runs to the model.
#pragma once

#include <string>

#include "model/kv_type.h"
#include "qwen3/generation_config.h"
#include "vision_options.h"

namespace qwen3::cli {

struct VisionRunArgs {
  std::string model, system, prompt;
  VisionOptions vision;
  GenerationConfig config;  // sampling and max_new_tokens (unset fields: the Qwen3 defaults)
  int threads = 0, ctx = 0;
  KvType kv = KvType::F16;  // --kv-type
};

int run_with_images(const VisionRunArgs& a);

}  // namespace qwen3::cli
