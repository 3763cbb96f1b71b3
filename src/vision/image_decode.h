// JPEG, PNG and WebP decoding to 8-bit RGB with Debian's libjpeg-turbo, libpng and
// libwebp. The format is found from the leading bytes, never from a file name. The size
// in the header is checked against ImageLimits before any pixel buffer is allocated;
// truncated, corrupt, empty or unsupported data is a std::runtime_error that says which.
// As llama.cpp's loader (stb_image, 3 channels): alpha is dropped (not blended), grey is
// replicated, 16-bit samples keep their high byte; EXIF orientation is not applied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "vision/image.h"

namespace qwen3::vision {

enum class ImageFormat { Unknown, Jpeg, Png, Webp };

ImageFormat sniff_image_format(const uint8_t* data, size_t size);
const char* image_format_name(ImageFormat f);

RgbImage decode_image(const uint8_t* data, size_t size, const ImageLimits& limits = {});
// Reads the file (up to limits.max_file_bytes) and decodes it; errors name the file.
RgbImage decode_image_file(const std::string& path, const ImageLimits& limits = {});

}  // namespace qwen3::vision
