// The vision half of a served Qwen3-VL model: the mmproj's encoder, checked against the
// text model once at load, turning a request's encoded images into VlImage rows and ids
// (engine/vl_images.h). Shared by every sequence of a batch engine; encodes run one at a
// time on its own thread pool. The last few images stay cached by their bytes' hash, so
// a conversation that sends the same image again is not encoded again.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "engine/vl_images.h"
#include "vision/image.h"

namespace qwen3 {
struct Qwen3Config;
class ThreadPool;
namespace vision {
class VisionEncoder;
}
}  // namespace qwen3

namespace qwen3::engine {

class VlEncoder {
 public:
  // std::invalid_argument when the mmproj does not fit the text model (or it is no
  // Qwen3-VL model); std::runtime_error when the file cannot be read.
  VlEncoder(const std::string& mmproj_path, const Qwen3Config& text, int n_threads);
  ~VlEncoder();

  // Decodes (PNG, JPEG, WebP) and encodes; std::invalid_argument says what is wrong
  // with the image (not an image, truncated, past the limits).
  std::shared_ptr<const VlImage> encode(const std::string& bytes);

  const vision::ImageLimits& limits() const { return limits_; }
  std::size_t images_encoded() const { return encoded_; }

 private:
  std::unique_ptr<vision::VisionEncoder> enc_;
  std::unique_ptr<ThreadPool> pool_;
  vision::ImageLimits limits_;
  std::mutex mu_;
  std::list<std::shared_ptr<const VlImage>> recent_;  // most recent first
  std::size_t encoded_ = 0;
};

}  // namespace qwen3::engine
