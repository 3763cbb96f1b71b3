#include "vision/image_preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace qwen3::vision {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic_filter(double x) {  // Pillow's a = -0.5 kernel
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

uint8_t clip8(int32_t v) {
  return v < 0 ? 0 : v > 255 ? 255 : static_cast<uint8_t>(v);
}

// Filter taps of one axis: for output i, bounds[2i] = first input, bounds[2i+1] = count,
// weights[i*ksize + k] fixed-point. Returns ksize.
int precompute(int in_size, int out_size, std::vector<int>& bounds, std::vector<int32_t>& weights) {
  double scale = static_cast<double>(in_size) / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 2.0 * filterscale;
  const int ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  std::vector<double> pre(static_cast<size_t>(out_size) * ksize);
  bounds.assign(static_cast<size_t>(out_size) * 2, 0);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    double ww = 0.0;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double* k = &pre[static_cast<size_t>(xx) * ksize];
    int x = 0;
    for (; x < xmax; ++x) {
      const double w = bicubic_filter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (x = 0; x < xmax; ++x)
      if (ww != 0.0) k[x] /= ww;
    for (; x < ksize; ++x) k[x] = 0;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  weights.resize(pre.size());
  const double fxp = std::ldexp(1.0, kPrecisionBits);
  for (size_t i = 0; i < pre.size(); ++i)
    weights[i] = static_cast<int32_t>(pre[i] * fxp + (pre[i] < 0 ? -0.5 : 0.5));
  return ksize;
}

std::vector<uint8_t> horizontal(const uint8_t* src, int in_w, int h, int out_w, int ksize,
                                const std::vector<int>& bounds, const std::vector<int32_t>& wts) {
  std::vector<uint8_t> out(static_cast<size_t>(out_w) * h * 3);
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = src + static_cast<size_t>(y) * in_w * 3;
    uint8_t* dst = out.data() + static_cast<size_t>(y) * out_w * 3;
    for (int xx = 0; xx < out_w; ++xx) {
      const int xmin = bounds[xx * 2], xcnt = bounds[xx * 2 + 1];
      const int32_t* k = &wts[static_cast<size_t>(xx) * ksize];
      const uint8_t* p = row + static_cast<size_t>(xmin) * 3;
      int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int x = 0; x < xcnt; ++x, p += 3) {
        s0 += p[0] * k[x];
        s1 += p[1] * k[x];
        s2 += p[2] * k[x];
      }
      dst[xx * 3] = clip8(s0 >> kPrecisionBits);
      dst[xx * 3 + 1] = clip8(s1 >> kPrecisionBits);
      dst[xx * 3 + 2] = clip8(s2 >> kPrecisionBits);
    }
  }
  return out;
}

std::vector<uint8_t> vertical(const uint8_t* src, int w, int out_h, int ksize,
                              const std::vector<int>& bounds, const std::vector<int32_t>& wts) {
  const size_t n = static_cast<size_t>(w) * 3;
  std::vector<uint8_t> out(n * out_h);
  std::vector<int32_t> acc(n);
  for (int yy = 0; yy < out_h; ++yy) {
    const int ymin = bounds[yy * 2], ycnt = bounds[yy * 2 + 1];
    const int32_t* k = &wts[static_cast<size_t>(yy) * ksize];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int y = 0; y < ycnt; ++y) {
      const uint8_t* row = src + static_cast<size_t>(ymin + y) * n;
      for (size_t i = 0; i < n; ++i) acc[i] += row[i] * k[y];
    }
    uint8_t* dst = out.data() + static_cast<size_t>(yy) * n;
    for (size_t i = 0; i < n; ++i) dst[i] = clip8(acc[i] >> kPrecisionBits);
  }
  return out;
}

}  // namespace

ImageSize smart_resize_size(int width, int height, const VisionConfig& c) {
  if (width <= 0 || height <= 0) return {0, 0};
  // float arithmetic throughout, as llama.cpp's calc_size_preserved_ratio
  const int f = c.align();
  const int min_px = static_cast<int>(c.min_pixels()), max_px = static_cast<int>(c.max_pixels());
  auto round_f = [f](float x) {
    return static_cast<int>(std::round(x / static_cast<float>(f))) * f;
  };
  auto ceil_f = [f](float x) { return static_cast<int>(std::ceil(x / static_cast<float>(f))) * f; };
  auto floor_f = [f](float x) {
    return static_cast<int>(std::floor(x / static_cast<float>(f))) * f;
  };
  int w = std::max(f, round_f(static_cast<float>(width)));
  int h = std::max(f, round_f(static_cast<float>(height)));
  if (max_px > 0 && 1LL * h * w > max_px) {
    const float beta = std::sqrt(static_cast<float>(height) * width / max_px);
    h = std::max(f, floor_f(height / beta));
    w = std::max(f, floor_f(width / beta));
  } else if (min_px > 0 && 1LL * h * w < min_px) {
    const float beta = std::sqrt(static_cast<float>(min_px) / (static_cast<float>(height) * width));
    h = ceil_f(height * beta);
    w = ceil_f(width * beta);
  }
  return {w, h};
}

RgbImage resize_bicubic(const RgbImage& src, int width, int height) {
  if (width <= 0 || height <= 0 || src.width <= 0 || src.height <= 0)
    throw std::invalid_argument("resize: empty image or target size");
  std::vector<int> bh, bv;
  std::vector<int32_t> wh, wv;
  const bool need_h = width != src.width, need_v = height != src.height;
  RgbImage dst;
  dst.width = width;
  dst.height = height;
  if (need_h && need_v) {
    const int kh = precompute(src.width, width, bh, wh);
    const int kv = precompute(src.height, height, bv, wv);
    const auto tmp = horizontal(src.rgb.data(), src.width, src.height, width, kh, bh, wh);
    dst.rgb = vertical(tmp.data(), width, height, kv, bv, wv);
  } else if (need_h) {
    const int kh = precompute(src.width, width, bh, wh);
    dst.rgb = horizontal(src.rgb.data(), src.width, src.height, width, kh, bh, wh);
  } else if (need_v) {
    const int kv = precompute(src.height, height, bv, wv);
    dst.rgb = vertical(src.rgb.data(), width, height, kv, bv, wv);
  } else {
    dst.rgb = src.rgb;
  }
  return dst;
}

RgbImage resize_with_padding(const RgbImage& src, int width, int height) {
  if (src.width == width && src.height == height) return src;
  const float scale_w = static_cast<float>(width) / src.width;
  const float scale_h = static_cast<float>(height) / src.height;
  const float scale = std::min(scale_w, scale_h);
  const int nw = std::min(static_cast<int>(std::ceil(src.width * scale)), width);
  const int nh = std::min(static_cast<int>(std::ceil(src.height * scale)), height);
  const RgbImage resized = resize_bicubic(src, nw, nh);
  RgbImage dst;
  dst.width = width;
  dst.height = height;
  dst.rgb.assign(static_cast<size_t>(width) * height * 3, 0);
  const int ox = (width - nw) / 2, oy = (height - nh) / 2;
  for (int y = 0; y < nh; ++y)
    std::copy_n(resized.pixel(0, y), static_cast<size_t>(nw) * 3, dst.pixel(ox, oy + y));
  return dst;
}

PixelTensor preprocess_image(const RgbImage& img, const VisionConfig& c) {
  if (img.width <= 0 || img.height <= 0) throw std::invalid_argument("image has zero size");
  const ImageSize t = smart_resize_size(img.width, img.height, c);
  const RgbImage r = resize_with_padding(img, t.width, t.height);
  PixelTensor out;
  out.width = r.width;
  out.height = r.height;
  out.data.resize(r.rgb.size());
  for (size_t i = 0; i < r.rgb.size(); ++i) {
    const int ch = static_cast<int>(i % 3);
    const float v = static_cast<float>(r.rgb[i]) / 255.0f;
    out.data[i] = (v - c.mean[ch]) / c.std[ch];
  }
  return out;
}

}  // namespace qwen3::vision
