// Qwen3-VL's interleaved M-RoPE and image-token input for the text model: each token
// carries a (time, height, width) position; rotary pair s of a head takes its angle from
// the height position when s % 3 == 1 and s < 3 x sections[1], from the width position
// when s % 3 == 2 and s < 3 x sections[2], and from the time position otherwise
// (transformers' apply_interleaved_mrope). A text token has t = y = x, which is plain NEOX
// RoPE bit for bit. An image token also brings its row of the vision encoder's output:
// the input embedding followed by one DeepStack slice per early layer. Facts:
// docs/vision.md.
#pragma once

#include <cstdint>
#include <vector>

#include "model/rope.h"

namespace qwen3 {

// The Qwen3-VL input of one batch token (BatchToken::vl).
struct VlInput {
  int t = 0, y = 0, x = 0;      // M-RoPE position (time, height, width)
  const float* embd = nullptr;  // image token: n_embd x (1 + DeepStack layers) floats;
                                // nullptr: a text token (its id's embedding)
};

// cos/sin (head_dim/2 each) of an M-RoPE position, as Rope::at for each pair's position.
void mrope_at(const Rope& rope, const std::vector<int>& sections, const VlInput& p, float* cos_out,
              float* sin_out);

// The M-RoPE position of token i of an image of grid_w x grid_h merged tokens (row-major)
// whose first token sits at text position p0 (llama.cpp's mtmd_image_tokens_get_decoder_pos).
inline VlInput image_token_position(int p0, int grid_w, int i) {
  return {p0, p0 + i / grid_w, p0 + i % grid_w, nullptr};
}
// Text positions an image takes: the next text token is at p0 + max(grid_w, grid_h).
inline int image_position_span(int grid_w, int grid_h) {
  return grid_w > grid_h ? grid_w : grid_h;
}

}  // namespace qwen3
