// The images of a Qwen3-VL request as the batch engine sees them. An image stands in the
// prompt as a run of token ids of its own, one per merged token: negative ids (outside
// every vocabulary) drawn from a hash of the image's bytes and the token's index. So
// everything keyed by token ids tells images apart with no change: the prefix cache's
// block hash chain (two requests with the same text and other images share no block past
// the first image), the Pipeline's reuse of a slot's cached prefix, the KV blocks' token
// check. The ids of one image are distinct (index in the low 12 bits); two images share
// an id at the same index with probability 2^-19, a whole KV block 2^-19 per token.
//
// VlSlot tracks each cached position's M-RoPE input (model/mrope.h): an image of
// gw x gh tokens starting at text position p0 takes positions (p0, p0 + i / gw,
// p0 + i % gw) and the next text token sits at p0 + max(gw, gh). Facts: docs/vision.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/mrope.h"

namespace qwen3::engine {

struct VlImage {
  std::uint64_t hash = 0;         // of the encoded bytes
  int grid_w = 0, grid_h = 0;     // merged tokens across and down
  int dim = 0;                    // floats per token row (n_embd x (1 + DeepStack))
  std::vector<float> rows;        // grid_h * grid_w rows of dim
  std::vector<std::int32_t> ids;  // image_token_ids(hash, n_tokens())
  int n_tokens() const { return grid_w * grid_h; }
};

// The images one sequence may hold (every image of its request's conversation).
using VlImageSet = std::vector<std::shared_ptr<const VlImage>>;

// Most merged tokens of one image (the ids' index bits; 4096 = the preprocessing's max).
constexpr int kMaxImageTokens = 4096;

std::uint64_t image_hash(const void* data, std::size_t size);
// The n ids (n <= kMaxImageTokens) of an image with this hash; all negative, distinct.
std::vector<std::int32_t> image_token_ids(std::uint64_t hash, int n);
inline bool is_image_token_id(std::int32_t id) {
  return id < 0;
}

// The M-RoPE input of one cached position, and which image token it is (-1: text).
struct VlSlot {
  VlInput in;
  int image = -1;  // index into the VlImageSet
  int index = 0;   // token of that image
};

// Appends the slots of ids[0..n) after slots[0..past) (slots is resized to past + n).
// An image id continues the image of the previous slot or starts an image of `images`
// (its first id). Returns the index of the first id it cannot place (an id outside
// [0, n_vocab) that is no image token here), or n when all are placed.
int vl_extend(const VlImageSet& images, int n_vocab, std::vector<VlSlot>& slots, int past,
              const std::int32_t* ids, int n);

// True when the slot needs its VlInput in the forward pass (an image token, or a text
// token whose rotary position is not its cache position).
inline bool vl_needed(const VlSlot& s, int pos) {
  return s.image >= 0 || s.in.t != pos;
}

}  // namespace qwen3::engine
