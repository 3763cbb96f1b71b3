// A Qwen3-VL prompt with images: token ids in which image k stands as a run of
// `<|image_pad|>` ids, one per merged token of its embedding, evaluated on an
// InferenceContext (text runs with eval, image runs with eval_image: M-RoPE positions and
// DeepStack). The chat template writes one pad per image; expand_image_pads makes the run.
// The pads come from the structured message (template or caller), never from user text:
// the tokenizer keeps special-token text in messages plain.
#pragma once

#include <cstdint>
#include <vector>

#include <string>

#include "model/qwen3_model.h"
#include "vision/vision_encoder.h"

namespace qwen3::vision {

// Each pad id in `ids` (one per image, in order) becomes images[k].n_tokens() pads.
// std::invalid_argument when the pad count differs from the image count.
std::vector<int32_t> expand_image_pads(const std::vector<int32_t>& ids, int32_t pad_id,
                                       const std::vector<ImageEmbedding>& images);

// The prompt ids of one user turn with images, as the Qwen3-VL chat template renders a
// message whose content is n_images image parts then a text part (an optional system turn
// first, then the assistant's generation prompt): one <|image_pad|> per image inside
// <|vision_start|> .. <|vision_end|>. Only this structure writes special tokens; the
// system and user text are tokenized as plain text.
std::vector<int32_t> vl_chat_prompt(const Tokenizer& tok, const std::string& system,
                                    const std::string& user, int n_images);

// Checks that the encoder's output feeds this text model (Qwen3-VL, projection width =
// n_embd, the same number of DeepStack layers); std::invalid_argument says what differs.
void check_vision_pair(const Qwen3Config& text, const VisionConfig& vision);

// Evaluates expanded ids[0..n) after ctx's cache: each run of pad ids is the next images
// in order (images[first_image], ...; a run may hold several whole images). Writes the
// logits rows of positions logits_from..n-1 (n - logits_from rows of n_vocab; nullptr =
// none) and returns the number of images consumed. std::invalid_argument when a pad run
// does not split into whole images.
int eval_vl_prompt(InferenceContext& ctx, const int32_t* ids, int n, int32_t pad_id,
                   const std::vector<ImageEmbedding>& images, int first_image, float* logits,
                   int logits_from);

}  // namespace qwen3::vision
