// Image token ids and M-RoPE slots of a Qwen3-VL sequence: vl_images.h.
#include "engine/vl_images.h"

#include "kernels/mix64.h"

namespace qwen3::engine {
namespace {

// The rotary position a text token after this slot takes.
int next_text_pos(const VlImageSet& images, const VlSlot& s) {
  if (s.image < 0) return s.in.t + 1;
  const VlImage& im = *images[static_cast<std::size_t>(s.image)];
  return s.in.t + image_position_span(im.grid_w, im.grid_h);
}

}  // namespace

std::uint64_t image_hash(const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the bytes, then mixed
  for (std::size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return mix64(h ^ size);
}

std::vector<std::int32_t> image_token_ids(std::uint64_t hash, int n) {
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const std::uint32_t high = static_cast<std::uint32_t>(
        mix64(hash + 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(i + 1)) >> 45);  // 19 bits
    const std::uint32_t v = (high << 12) | static_cast<std::uint32_t>(i);                // < 2^31
    ids[static_cast<std::size_t>(i)] = -1 - static_cast<std::int32_t>(v);
  }
  return ids;
}

int vl_extend(const VlImageSet& images, int n_vocab, std::vector<VlSlot>& slots, int past,
              const std::int32_t* ids, int n) {
  slots.resize(static_cast<std::size_t>(past + n));
  for (int i = 0; i < n; ++i) {
    const int pos = past + i;
    const VlSlot* prev = pos > 0 ? &slots[static_cast<std::size_t>(pos - 1)] : nullptr;
    const int text_pos = prev ? next_text_pos(images, *prev) : 0;
    VlSlot& s = slots[static_cast<std::size_t>(pos)];
    const std::int32_t id = ids[i];
    if (id >= 0 && id < n_vocab) {
      s = {{text_pos, text_pos, text_pos, nullptr}, -1, 0};
      continue;
    }
    if (!is_image_token_id(id)) return i;
    int image = -1, index = 0, p0 = text_pos;
    if (prev && prev->image >= 0) {  // the next token of the same image?
      const VlImage& im = *images[static_cast<std::size_t>(prev->image)];
      if (prev->index + 1 < im.n_tokens() &&
          im.ids[static_cast<std::size_t>(prev->index + 1)] == id) {
        image = prev->image;
        index = prev->index + 1;
        p0 = prev->in.t;
      }
    }
    for (std::size_t k = 0; image < 0 && k < images.size(); ++k)
      if (images[k]->n_tokens() > 0 && images[k]->ids[0] == id) image = static_cast<int>(k);
    if (image < 0) return i;
    const VlImage& im = *images[static_cast<std::size_t>(image)];
    s.in = image_token_position(p0, im.grid_w, index);
    s.in.embd = im.rows.data() + static_cast<std::size_t>(index) * static_cast<std::size_t>(im.dim);
    s.image = image;
    s.index = index;
  }
  return n;
}

}  // namespace qwen3::engine
