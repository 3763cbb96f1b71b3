// libFuzzer target for the image decoders (JPEG, PNG, WebP) and the Qwen3-VL
// preprocessing: any input must decode or give a std::runtime_error; decoded images go
// through the smart resize and normalisation of the tiny vision shape. The pixel limit
// is small so that ASan runs stay fast (the guard itself is part of what is fuzzed).
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "vision/image_decode.h"
#include "vision/image_preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qwen3::vision;
  ImageLimits lim;
  lim.max_pixels = 1 << 20;
  lim.max_side = 4096;
  try {
    const RgbImage img = decode_image(data, size, lim);
    if (img.rgb.size() != static_cast<size_t>(img.width) * img.height * 3) __builtin_trap();
    VisionConfig c = VisionConfig::preset("tiny");
    c.max_tokens = 64;  // keeps the resize small
    const PixelTensor px = preprocess_image(img, c);
    if (px.width % c.align() || px.height % c.align()) __builtin_trap();
  } catch (const std::runtime_error&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
