#include "vision/image_decode.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>

#include "common/enum_names.h"

namespace qwen3::vision {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

void check_size(const char* fmt, int64_t w, int64_t h, const ImageLimits& lim) {
  if (w <= 0 || h <= 0)
    fail(std::string(fmt) + " image has zero size (" + std::to_string(w) + "x" + std::to_string(h) +
         ")");
  if (w > lim.max_side || h > lim.max_side || w * h > lim.max_pixels)
    fail(std::string(fmt) + " image of " + std::to_string(w) + "x" + std::to_string(h) +
         " pixels is over the limit (" + std::to_string(lim.max_pixels) + " pixels, " +
         std::to_string(lim.max_side) + " a side)");
}

// ---- JPEG ----
struct JpegErr {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int warnings;
};

void jpeg_on_error(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErr*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  longjmp(e->jump, 1);
}

void jpeg_on_message(j_common_ptr cinfo, int level) {
  auto* e = reinterpret_cast<JpegErr*>(cinfo->err);
  if (level < 0 && e->warnings++ == 0) (*cinfo->err->format_message)(cinfo, e->message);
}

RgbImage decode_jpeg(const uint8_t* data, size_t size, const ImageLimits& lim) {
  jpeg_decompress_struct cinfo;
  JpegErr err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_on_error;
  err.mgr.emit_message = jpeg_on_message;
  RgbImage img;
  std::string error;
  std::vector<uint8_t> cmyk;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    fail(std::string("corrupt JPEG image: ") + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  try {
    check_size("JPEG", cinfo.image_width, cinfo.image_height, lim);
  } catch (...) {
    jpeg_destroy_decompress(&cinfo);
    throw;
  }
  const bool is_cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = is_cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  img.width = static_cast<int>(cinfo.output_width);
  img.height = static_cast<int>(cinfo.output_height);
  img.rgb.resize(static_cast<size_t>(img.width) * img.height * 3);
  if (is_cmyk) cmyk.resize(static_cast<size_t>(img.width) * 4);
  while (cinfo.output_scanline < cinfo.output_height) {
    const size_t y = cinfo.output_scanline;
    JSAMPROW row = is_cmyk ? cmyk.data() : img.rgb.data() + y * img.width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (is_cmyk) {  // Adobe CMYK is stored inverted: channel * K / 255
      uint8_t* out = img.rgb.data() + y * img.width * 3;
      for (int x = 0; x < img.width; ++x) {
        const unsigned k = cmyk[x * 4 + 3];
        for (int c = 0; c < 3; ++c)
          out[x * 3 + c] = static_cast<uint8_t>((cmyk[x * 4 + c] * k + 127) / 255);
      }
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  // libjpeg pads a truncated stream with grey and only warns: that is an error here.
  if (err.warnings > 0) fail(std::string("truncated or corrupt JPEG image: ") + err.message);
  return img;
}

// ---- PNG ----
struct PngReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

void png_read_mem(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "truncated PNG data");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

struct PngErr {
  std::string message;
};

void png_on_error(png_structp png, png_const_charp msg) {
  auto* e = static_cast<PngErr*>(png_get_error_ptr(png));
  e->message = msg ? msg : "unknown error";
  png_longjmp(png, 1);
}
void png_on_warning(png_structp, png_const_charp) {}

RgbImage decode_png(const uint8_t* data, size_t size, const ImageLimits& lim) {
  PngErr err;
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, png_on_error, png_on_warning);
  if (!png) fail("PNG: out of memory");
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    fail("PNG: out of memory");
  }
  PngReader reader{data, size, 0};
  RgbImage img;
  std::vector<png_bytep> rows;
  std::string limit_error;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    if (!limit_error.empty()) fail(limit_error);
    fail("truncated or corrupt PNG image: " + err.message);
  }
  png_set_read_fn(png, &reader, png_read_mem);
  // libpng's own width/height cap stays above ours, so check_size gives the message.
  png_set_user_limits(png, 1000000, 1000000);
  png_set_chunk_malloc_max(png, 8u << 20);
  png_read_info(png, info);
  const png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  try {
    check_size("PNG", w, h, lim);
  } catch (const std::exception& e) {
    limit_error = e.what();
  }
  if (!limit_error.empty()) png_longjmp(png, 1);
  const int color = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_strip_16(png);
  if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != static_cast<size_t>(w) * 3) {
    limit_error = "PNG: unexpected pixel layout after conversion";
    png_longjmp(png, 1);
  }
  img.width = static_cast<int>(w);
  img.height = static_cast<int>(h);
  img.rgb.resize(static_cast<size_t>(w) * h * 3);
  rows.resize(h);
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = img.rgb.data() + static_cast<size_t>(y) * w * 3;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return img;
}

// ---- WebP ----
RgbImage decode_webp(const uint8_t* data, size_t size, const ImageLimits& lim) {
  WebPBitstreamFeatures f;
  if (WebPGetFeatures(data, size, &f) != VP8_STATUS_OK) fail("truncated or corrupt WebP image");
  if (f.has_animation) fail("animated WebP images are not supported");
  check_size("WebP", f.width, f.height, lim);
  RgbImage img;
  img.width = f.width;
  img.height = f.height;
  img.rgb.resize(static_cast<size_t>(f.width) * f.height * 3);
  if (!WebPDecodeRGBInto(data, size, img.rgb.data(), img.rgb.size(), f.width * 3))
    fail("truncated or corrupt WebP image");
  return img;
}

}  // namespace

ImageFormat sniff_image_format(const uint8_t* d, size_t n) {
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return ImageFormat::Jpeg;
  if (n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) return ImageFormat::Png;
  if (n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0)
    return ImageFormat::Webp;
  return ImageFormat::Unknown;
}

constexpr NamedValue<ImageFormat> kImageFormatNames[] = {
    {ImageFormat::Jpeg, "JPEG"}, {ImageFormat::Png, "PNG"}, {ImageFormat::Webp, "WebP"}};

const char* image_format_name(ImageFormat f) {
  return name_of(kImageFormatNames, f, "unknown");
}

RgbImage decode_image(const uint8_t* data, size_t size, const ImageLimits& limits) {
  if (!data || size == 0) fail("empty image data (0 bytes)");
  switch (sniff_image_format(data, size)) {
    case ImageFormat::Jpeg:
      return decode_jpeg(data, size, limits);
    case ImageFormat::Png:
      return decode_png(data, size, limits);
    case ImageFormat::Webp:
      return decode_webp(data, size, limits);
    default:
      fail("unsupported image type (expected JPEG, PNG or WebP data)");
  }
}

RgbImage decode_image_file(const std::string& path, const ImageLimits& limits) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail(path + ": cannot open image file");
  const std::streamoff n = in.tellg();
  if (n < 0) fail(path + ": cannot read image file");
  if (static_cast<uint64_t>(n) > limits.max_file_bytes)
    fail(path + ": image file of " + std::to_string(n) + " bytes is over the limit of " +
         std::to_string(limits.max_file_bytes));
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  in.seekg(0);
  if (n > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), n)) fail(path + ": read error");
  try {
    return decode_image(bytes.data(), bytes.size(), limits);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace qwen3::vision
