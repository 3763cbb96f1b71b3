// Qwen3-VL image preprocessing exactly as llama.cpp's libmtmd does it for projector
// qwen3vl (mtmd_image_preprocessor_dyn_size): the "smart resize" target size within the
// pixel budget, a Pillow-style bicubic resize that keeps the aspect ratio and pads with
// black, then x/255 normalised by the model's mean and std. Same image, same floats.
// Facts: docs/vision.md.
#pragma once

#include <vector>

#include "vision/image.h"
#include "vision/vision_config.h"

namespace qwen3::vision {

struct ImageSize {
  int width = 0;
  int height = 0;
};

// The resized size: multiples of patch x merge, pixel count within the config's budget.
ImageSize smart_resize_size(int width, int height, const VisionConfig& c);

// Separable bicubic resampling (a = -0.5, 22-bit fixed point) as Pillow's Resample.c.
RgbImage resize_bicubic(const RgbImage& src, int width, int height);
// Resize keeping the aspect ratio into width x height, centred, padded with black
// (llama.cpp's PAD_CEIL); a plain copy when the size is unchanged.
RgbImage resize_with_padding(const RgbImage& src, int width, int height);

// The encoder's input: height x width pixels, 3 normalised floats each (HWC).
struct PixelTensor {
  int width = 0;
  int height = 0;
  std::vector<float> data;
};

PixelTensor preprocess_image(const RgbImage& img, const VisionConfig& c);

}  // namespace qwen3::vision
