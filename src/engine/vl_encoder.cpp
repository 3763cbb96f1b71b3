// A served model's vision encoder: vl_encoder.h.
#include "engine/vl_encoder.h"

#include <stdexcept>

#include "kernels/thread_pool.h"
#include "model/qwen3_model.h"
#include "vision/image_decode.h"
#include "vision/vision_encoder.h"
#include "vision/vl_prompt.h"

namespace qwen3::engine {
namespace {
constexpr std::size_t kRecentImages = 8;
}

VlEncoder::VlEncoder(const std::string& mmproj_path, const Qwen3Config& text, int n_threads)
    : enc_(vision::VisionEncoder::load(mmproj_path)),
      pool_(std::make_unique<ThreadPool>(n_threads)) {
  vision::check_vision_pair(text, enc_->config());
}

VlEncoder::~VlEncoder() = default;

std::shared_ptr<const VlImage> VlEncoder::encode(const std::string& bytes) {
  const std::uint64_t hash = image_hash(bytes.data(), bytes.size());
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = recent_.begin(); it != recent_.end(); ++it)
    if ((*it)->hash == hash) {
      auto im = *it;
      recent_.erase(it);
      recent_.push_front(im);
      return im;
    }
  vision::RgbImage rgb;
  try {
    rgb = vision::decode_image(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(),
                               limits_);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(std::string("image: ") + e.what());
  }
  vision::ImageEmbedding e = enc_->encode(rgb, *pool_);
  if (e.n_tokens() > kMaxImageTokens)
    throw std::invalid_argument("image: " + std::to_string(e.n_tokens()) + " tokens, more than " +
                                std::to_string(kMaxImageTokens));
  auto im = std::make_shared<VlImage>();
  im->hash = hash;
  im->grid_w = e.grid_w;
  im->grid_h = e.grid_h;
  im->dim = e.dim;
  im->rows = std::move(e.data);
  im->ids = image_token_ids(hash, im->n_tokens());
  ++encoded_;
  recent_.push_front(im);
  if (recent_.size() > kRecentImages) recent_.pop_back();
  return im;
}

}  // namespace qwen3::engine
