// Test images: deterministic RGB patterns written as PNG (RGB, grey, RGBA, 16-bit) or
// JPEG with libpng / libjpeg, for the vision tests' decoders and the llama.cpp crosscheck.
#pragma once

#include <jpeglib.h>
#include <png.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "vision/image.h"

namespace qwen3::testing {

// Standard base64 with padding: the payload of a data URL.
inline std::string base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::size_t n = in.size() - i < 3 ? in.size() - i : 3;
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (n > 1) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (n > 2) v |= static_cast<unsigned char>(in[i + 2]);
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += n > 1 ? k[(v >> 6) & 63] : '=';
    out += n > 2 ? k[v & 63] : '=';
  }
  return out;
}

// Smooth gradients plus a few edges and a little hash noise: exercises the resampler.
inline vision::RgbImage pattern_image(int w, int h, int seed) {
  vision::RgbImage img;
  img.width = w, img.height = h, img.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.pixel(x, y);
      const unsigned n = (static_cast<unsigned>(x) * 73856093u) ^
                         (static_cast<unsigned>(y) * 19349663u) ^
                         (static_cast<unsigned>(seed) * 83492791u);
      const double fx = static_cast<double>(x) / w, fy = static_cast<double>(y) / h;
      p[0] = static_cast<uint8_t>(std::fmod(255 * fx + 40 * seed + (n % 17), 256.0));
      p[1] = static_cast<uint8_t>(127.5 + 120 * std::sin(6.0 * fy + seed) + ((n >> 8) % 9) - 4);
      p[2] =
          static_cast<uint8_t>(((x / 7 + y / 5) % 2) ? 220 - (n >> 16) % 13 : 30 + (n >> 20) % 13);
    }
  return img;
}

// channels: 1 (grey from the green channel), 3 (RGB), 4 (RGBA, alpha a pattern).
inline void write_png(const std::string& path, const vision::RgbImage& img, int channels = 3,
                      int bit_depth = 8) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    std::fclose(f);
    throw std::runtime_error("libpng write error");
  }
  png_init_io(png, f);
  const int type = channels == 1   ? PNG_COLOR_TYPE_GRAY
                   : channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA
                                   : PNG_COLOR_TYPE_RGB;
  png_set_IHDR(png, info, img.width, img.height, bit_depth, type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const int bps = bit_depth / 8;
  std::vector<uint8_t> row(static_cast<size_t>(img.width) * channels * bps);
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      const uint8_t* p = img.pixel(x, y);
      uint8_t v[4] = {p[0], p[1], p[2], static_cast<uint8_t>((x * 5 + y * 3) % 256)};
      if (channels == 1) v[0] = p[1];
      for (int c = 0; c < channels; ++c)
        for (int b = 0; b < bps; ++b)  // 16-bit: high byte the value, low byte varies
          row[(static_cast<size_t>(x) * channels + c) * bps + b] =
              b == 0 ? v[c] : static_cast<uint8_t>(x * 31 + c);
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
}

inline void write_jpeg(const std::string& path, const vision::RgbImage& img, int quality = 90) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, f);
  c.image_width = img.width, c.image_height = img.height, c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(img.pixel(0, static_cast<int>(c.next_scanline)));
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::fclose(f);
}

}  // namespace qwen3::testing
