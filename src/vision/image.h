// Decoded images: 8-bit RGB pixels row by row (3 bytes a pixel, no padding), and the
// limits every decoder checks before it allocates (decompression bombs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qwen3::vision {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3

  uint8_t* pixel(int x, int y) { return rgb.data() + (static_cast<size_t>(y) * width + x) * 3; }
  const uint8_t* pixel(int x, int y) const {
    return rgb.data() + (static_cast<size_t>(y) * width + x) * 3;
  }
};

struct ImageLimits {
  int64_t max_pixels = int64_t{1} << 26;  // 67 megapixels (8192 x 8192)
  int max_side = 32768;                   // either side, in pixels
  size_t max_file_bytes = size_t{64} << 20;
};

}  // namespace qwen3::vision
