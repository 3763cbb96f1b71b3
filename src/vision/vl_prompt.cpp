// Qwen3-VL prompts with images: pad expansion and evaluation (see vl_prompt.h).
#include "vision/vl_prompt.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "text/tokenizer.h"

namespace qwen3::vision {

std::vector<int32_t> expand_image_pads(const std::vector<int32_t>& ids, int32_t pad_id,
                                       const std::vector<ImageEmbedding>& images) {
  std::vector<int32_t> out;
  size_t k = 0;
  for (int32_t id : ids) {
    if (id != pad_id) {
      out.push_back(id);
      continue;
    }
    if (k >= images.size())
      throw std::invalid_argument("the prompt has more image placeholders than the " +
                                  std::to_string(images.size()) + " images given");
    out.insert(out.end(), static_cast<size_t>(images[k++].n_tokens()), pad_id);
  }
  if (k != images.size())
    throw std::invalid_argument(std::to_string(images.size()) +
                                " images given but the prompt has " + std::to_string(k) +
                                " image placeholders");
  return out;
}

std::vector<int32_t> vl_chat_prompt(const Tokenizer& tok, const std::string& system,
                                    const std::string& user, int n_images) {
  std::vector<int32_t> ids;
  auto special = [&](const char* t) {
    const std::vector<int32_t> v = tok.encode(t, /*parse_special=*/true);
    ids.insert(ids.end(), v.begin(), v.end());
  };
  auto plain = [&](const std::string& t) {
    const std::vector<int32_t> v = tok.encode(t, /*parse_special=*/false);
    ids.insert(ids.end(), v.begin(), v.end());
  };
  if (!system.empty()) {
    special("<|im_start|>system\n");
    plain(system);
    special("<|im_end|>\n");
  }
  special("<|im_start|>user\n");
  for (int i = 0; i < n_images; ++i) special("<|vision_start|><|image_pad|><|vision_end|>");
  plain(user);
  special("<|im_end|>\n<|im_start|>assistant\n");
  return ids;
}

void check_vision_pair(const Qwen3Config& text, const VisionConfig& vision) {
  if (!text.is_vl())
    throw std::invalid_argument(
        "the model is not a Qwen3-VL model (GGUF architecture qwen3vl): "
        "it takes no images");
  if (vision.proj_dim != text.n_embd)
    throw std::invalid_argument("the mmproj projects to " + std::to_string(vision.proj_dim) +
                                " but the model's hidden size is " + std::to_string(text.n_embd) +
                                ": not this model's vision encoder");
  if (static_cast<int>(vision.deepstack_layers.size()) != text.vl_deepstack_layers)
    throw std::invalid_argument("the mmproj has " + std::to_string(vision.deepstack_layers.size()) +
                                " DeepStack layers but the model takes " +
                                std::to_string(text.vl_deepstack_layers) +
                                ": not this model's vision encoder");
}

int eval_vl_prompt(InferenceContext& ctx, const int32_t* ids, int n, int32_t pad_id,
                   const std::vector<ImageEmbedding>& images, int first_image, float* logits,
                   int logits_from) {
  const size_t V = static_cast<size_t>(ctx.model().config().n_vocab);
  const int E = ctx.model().config().n_embd;
  const size_t dim =
      static_cast<size_t>(E) * (1 + std::max(0, ctx.model().config().vl_deepstack_layers));
  logits_from = std::max(0, logits_from);
  auto out_row = [&](int pos) { return logits + static_cast<size_t>(pos - logits_from) * V; };
  // Text ids [b, e): without logits before logits_from, with them from there on.
  auto eval_text = [&](int b, int e) {
    const int split = logits ? std::clamp(logits_from, b, e) : e;
    if (split > b) ctx.eval(ids + b, split - b, nullptr);
    if (e > split) ctx.eval(ids + split, e - split, out_row(split), /*all_logits=*/true);
  };
  int k = first_image;
  std::vector<float> tmp;
  int i = 0;
  while (i < n) {
    int j = i;
    if (ids[i] != pad_id) {
      while (j < n && ids[j] != pad_id) ++j;
      eval_text(i, j);
      i = j;
      continue;
    }
    while (j < n && ids[j] == pad_id) ++j;
    while (i < j) {  // the run: whole images in order
      if (k >= static_cast<int>(images.size()))
        throw std::invalid_argument("image placeholder tokens at position " + std::to_string(i) +
                                    " but no image left for them");
      const ImageEmbedding& im = images[static_cast<size_t>(k)];
      const int nt = im.n_tokens();
      if (nt > j - i || im.data.size() != static_cast<size_t>(nt) * dim)
        throw std::invalid_argument("image " + std::to_string(k + 1) + " has " +
                                    std::to_string(nt) + " tokens but its placeholder run " +
                                    std::to_string(j - i));
      if (logits && i + nt > logits_from) {  // some of its rows are wanted
        tmp.resize(static_cast<size_t>(nt) * V);
        ctx.eval_image(im.data.data(), im.grid_w, im.grid_h, tmp.data(), /*all_logits=*/true);
        for (int r = std::max(i, logits_from); r < i + nt; ++r)
          std::memcpy(out_row(r), tmp.data() + static_cast<size_t>(r - i) * V, V * sizeof(float));
      } else {
        ctx.eval_image(im.data.data(), im.grid_w, im.grid_h, nullptr);
      }
      i += nt;
      ++k;
    }
  }
  return k - first_image;
}

}  // namespace qwen3::vision
