#include "vision/vision_encoder.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <sys/mman.h>
#include <unistd.h>

#include "gguf/gguf_reader.h"
#include "kernels/fp16.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "vision/vision_gemm.h"
#include "vision/vision_ops.h"

namespace qwen3::vision {

namespace {

struct Block {
  std::vector<float> ln1_w, ln1_b, ln2_w, ln2_b, qkv_b, out_b, up_b, down_b;
  PackedMatrix qkv, out, up, down;
};

struct Merger {  // LayerNorm (DeepStack only) -> fc1 -> GELU -> fc2
  std::vector<float> norm_w, norm_b, fc1_b, fc2_b;
  PackedMatrix fc1, fc2;
};

// Buffers of one encode, kept by the encoder for the next one (sized up only).
struct Scratch {
  std::vector<float> patches, x, h, qkv, kh, vh, attn, ff, scores, mh, mg;
  std::vector<int> tok_x, tok_y;
  AlignedArray<float> xp;  // activations packed for the products
};
template <class T>
T* sized(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// Per-thread buffers of the packed attention (one head at a time).
struct HeadScratch {
  AlignedArray<float> q, s, sp;
  PackedMatrix k, v;
};

}  // namespace

struct VisionEncoder::Impl {
  gguf::GgufFile file;
  VisionConfig cfg;
  std::vector<float> patch_w;  // E rows of 3 * ps * ps (both temporal kernels summed)
  std::vector<float> patch_b;
  PackedMatrix patch;      // over patch_w
  std::vector<float> pos;  // n_pos_side^2 rows of E
  std::vector<Block> blocks;
  std::vector<Merger> deepstack;  // in the order of cfg.deepstack_layers
  std::vector<float> post_w, post_b;
  Merger merger;
  // One set of encode buffers per encoder (not per calling thread: a server's request
  // threads would each keep a large image's worth); a concurrent encode that finds
  // them in use allocates its own.
  mutable std::mutex scratch_mu;
  mutable Scratch scratch;
  mutable std::vector<HeadScratch> heads;

  explicit Impl(gguf::GgufFile f) : file(std::move(f)) {}

  const gguf::TensorInfo& need(const std::string& name, std::vector<int64_t> dims) const {
    const auto* t = file.tensor(name);
    if (!t) throw std::runtime_error(file.path() + ": missing tensor " + name);
    if (t->dims != dims) {
      std::string want, got;
      for (auto d : dims) want += (want.empty() ? "" : ", ") + std::to_string(d);
      for (auto d : t->dims) got += (got.empty() ? "" : ", ") + std::to_string(d);
      throw std::runtime_error(file.path() + ": tensor " + name + " has shape [" + got +
                               "], expected [" + want + "]");
    }
    if (t->type != GgmlType::F32 && t->type != GgmlType::F16)
      throw std::runtime_error(file.path() + ": tensor " + name +
                               " must be F32 or F16 (quantized mmproj files are not supported)");
    return *t;
  }
  std::vector<float> floats(const std::string& name, std::vector<int64_t> dims) const {
    const auto& t = need(name, std::move(dims));
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    if (t.type == GgmlType::F32)
      std::memcpy(v.data(), t.data, v.size() * sizeof(float));
    else
      fp16_to_fp32_row(static_cast<const uint16_t*>(t.data), v.data(),
                       static_cast<int64_t>(v.size()));
    release(t);
    return v;
  }
  PackedMatrix matrix(const std::string& name, int64_t cols, int64_t rows) const {
    const auto& t = need(name, {cols, rows});
    PackedMatrix m = PackedMatrix::pack(WeightMatrix{t.type, rows, cols, t.data});
    if (m.packed()) release(t);
    return m;
  }
  // Drops the resident pages of a tensor whose data now lives in a packed copy (the
  // file is mapped read-only and private: the pages come back from the file if the
  // fallback path ever reads them), so the encoder does not hold the weights twice.
  // (load() maps the file with GgufFile::open; never called on owned bytes.)
  static void release(const gguf::TensorInfo& t) {
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t b = (reinterpret_cast<uintptr_t>(t.data) + page - 1) / page * page;
    const uintptr_t e = (reinterpret_cast<uintptr_t>(t.data) + t.nbytes) / page * page;
    if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
  }
  Merger load_merger(const std::string& p, bool with_norm) const {
    const int64_t M = 4LL * cfg.n_embd, P = cfg.proj_dim;
    Merger m;
    if (with_norm) {
      m.norm_w = floats(p + "norm.weight", {M});
      m.norm_b = floats(p + "norm.bias", {M});
    }
    m.fc1 = matrix(p + (with_norm ? "fc1.weight" : "0.weight"), M, M);
    m.fc1_b = floats(p + (with_norm ? "fc1.bias" : "0.bias"), {M});
    m.fc2 = matrix(p + (with_norm ? "fc2.weight" : "2.weight"), M, P);
    m.fc2_b = floats(p + (with_norm ? "fc2.bias" : "2.bias"), {P});
    return m;
  }
};

VisionEncoder::VisionEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VisionEncoder::~VisionEncoder() = default;
const VisionConfig& VisionEncoder::config() const {
  return impl_->cfg;
}

std::unique_ptr<VisionEncoder> VisionEncoder::load(const std::string& path) {
  auto im = std::make_unique<Impl>(gguf::GgufFile::open(path));
  im->cfg = VisionConfig::from_gguf(im->file);
  const VisionConfig& c = im->cfg;
  const int64_t E = c.n_embd, F = c.n_ff, ps = c.patch_size;
  auto w0 = im->floats("v.patch_embd.weight", {ps, ps, 3, E});
  const auto w1 = im->floats("v.patch_embd.weight.1", {ps, ps, 3, E});
  // ggml_conv_2d runs im2col in F16 and multiplies in F16: the pixels and both kernels
  // are rounded to F16 (docs/vision.md); the two temporal kernels are then summed.
  auto h = [](float v) { return fp16_to_fp32(fp32_to_fp16(v)); };
  for (size_t i = 0; i < w0.size(); ++i) w0[i] = h(w0[i]) + h(w1[i]);
  im->patch_w = std::move(w0);  // [oc][c][ky][kx] = E rows of K
  im->patch_b = im->floats("v.patch_embd.bias", {E});
  im->patch = PackedMatrix::pack(WeightMatrix{GgmlType::F32, E, 3 * ps * ps, im->patch_w.data()});
  im->pos = im->floats("v.position_embd.weight", {E, 1LL * c.n_pos_side * c.n_pos_side});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "v.blk." + std::to_string(l) + ".";
    Block b;
    b.ln1_w = im->floats(p + "ln1.weight", {E});
    b.ln1_b = im->floats(p + "ln1.bias", {E});
    b.ln2_w = im->floats(p + "ln2.weight", {E});
    b.ln2_b = im->floats(p + "ln2.bias", {E});
    b.qkv = im->matrix(p + "attn_qkv.weight", E, 3 * E);
    b.qkv_b = im->floats(p + "attn_qkv.bias", {3 * E});
    b.out = im->matrix(p + "attn_out.weight", E, E);
    b.out_b = im->floats(p + "attn_out.bias", {E});
    b.up = im->matrix(p + "ffn_up.weight", E, F);
    b.up_b = im->floats(p + "ffn_up.bias", {F});
    b.down = im->matrix(p + "ffn_down.weight", F, E);
    b.down_b = im->floats(p + "ffn_down.bias", {E});
    im->blocks.push_back(std::move(b));
  }
  for (int l : c.deepstack_layers)
    im->deepstack.push_back(im->load_merger("v.deepstack." + std::to_string(l) + ".", true));
  im->post_w = im->floats("v.post_ln.weight", {E});
  im->post_b = im->floats("v.post_ln.bias", {E});
  im->merger = im->load_merger("mm.", false);
  return std::unique_ptr<VisionEncoder>(new VisionEncoder(std::move(im)));
}

ImageEmbedding VisionEncoder::encode(const RgbImage& image, ThreadPool& pool) const {
  return encode(preprocess_image(image, impl_->cfg), pool);
}

namespace {

// rows of x (M = 4E floats each) -> rows of P floats in out (row stride out_stride).
void run_merger(const Merger& m, const float* x, int64_t rows, int64_t M, float eps, float* out,
                int64_t out_stride, Scratch& sc, ThreadPool& pool) {
  float* h = sized(sc.mh, static_cast<size_t>(rows * M));
  float* g = sized(sc.mg, static_cast<size_t>(rows * M));
  if (!m.norm_w.empty()) {
    pool.parallel_for(rows, [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r)
        layer_norm(x + r * M, m.norm_w.data(), m.norm_b.data(), h + r * M, M, eps);
    });
    x = h;
  }
  m.fc1.multiply(x, rows, g, M, m.fc1_b.data(), pool, &sc.xp);
  pool.parallel_for(rows,
                    [&](int64_t r0, int64_t r1, int) { gelu_inplace(g + r0 * M, (r1 - r0) * M); });
  m.fc2.multiply(g, rows, out, out_stride, m.fc2_b.data(), pool, &sc.xp);
}

// Full (non-causal) attention of every head over the n tokens of qkv (rows of 3E: q, k, v,
// heads of hd), written to attn (rows of E). The packed path: per head, Q K^T and P V on
// the panel kernel, 48 queries at a time (their score rows stay in L2).
void attention_packed(const float* qkv, int64_t n, int H, int hd, float scale, float* attn,
                      std::vector<HeadScratch>& hs, ThreadPool& pool) {
  const int64_t E = static_cast<int64_t>(H) * hd, ld = 3 * E;
  constexpr int64_t kQB = 4 * gemm::kMR;
  if (hs.size() < static_cast<size_t>(pool.size())) hs.resize(pool.size());
  std::atomic<int> next{0};
  pool.parallel_for(pool.size(), [&](int64_t, int64_t, int piece) {
    HeadScratch& w = hs[piece];
    for (int hh; (hh = next.fetch_add(1, std::memory_order_relaxed)) < H;) {
      const float* q = qkv + static_cast<int64_t>(hh) * hd;
      w.q.resize(gemm::packed_x_floats(n, hd));
      gemm::pack_x(q, ld, n, hd, w.q.data(), nullptr);
      w.k.pack_rows_f32(q + E, ld, n, hd);
      w.v.pack_cols_f32(q + 2 * E, ld, n, hd);
      w.s.resize(static_cast<size_t>(kQB * n));
      w.sp.resize(gemm::packed_x_floats(kQB, n));
      for (int64_t q0 = 0; q0 < n; q0 += kQB) {
        const int64_t nq = std::min(kQB, n - q0);
        float* s = w.s.data();
        w.k.multiply_packed(w.q.data() + q0 * hd, nq, s, n, nullptr);
        for (int64_t r = 0; r < nq; ++r) {
          float* row = s + r * n;
          for (int64_t i = 0; i < n; ++i) row[i] *= scale;
          softmax(row, n);
        }
        gemm::pack_x(s, n, nq, n, w.sp.data(), nullptr);
        w.v.multiply_packed(w.sp.data(), nq, attn + q0 * E + static_cast<int64_t>(hh) * hd, E,
                            nullptr);
      }
    }
  });
}

}  // namespace

ImageEmbedding VisionEncoder::encode(const PixelTensor& px, ThreadPool& pool) const {
  const Impl& im = *impl_;
  const VisionConfig& c = im.cfg;
  const int ps = c.patch_size, align = c.align();
  if (px.width <= 0 || px.height <= 0 || px.width % align || px.height % align ||
      px.data.size() != static_cast<size_t>(px.width) * px.height * 3)
    throw std::invalid_argument("vision encoder: pixel tensor of " + std::to_string(px.width) +
                                "x" + std::to_string(px.height) + " is not a multiple of " +
                                std::to_string(align));
  const int gx = px.width / ps, gy = px.height / ps;  // patches across / down
  const int64_t n = 1LL * gx * gy, E = c.n_embd, F = c.n_ff, K = 3LL * ps * ps;
  const int H = c.n_head, hd = c.head_dim();
  std::unique_lock<std::mutex> lock(im.scratch_mu, std::try_to_lock);
  Scratch own_sc;
  std::vector<HeadScratch> own_heads;
  Scratch& sc = lock.owns_lock() ? im.scratch : own_sc;
  std::vector<HeadScratch>& heads = lock.owns_lock() ? im.heads : own_heads;
  // Token t is patch (x, y) of merge block t/4 (blocks row-major), sub-patch t%4 (dy, dx).
  int* tok_x = sized(sc.tok_x, n);
  int* tok_y = sized(sc.tok_y, n);
  for (int64_t t = 0; t < n; ++t) {
    const int64_t blk = t / 4, sub = t % 4;
    tok_x[t] = static_cast<int>((blk % (gx / 2)) * 2 + sub % 2);
    tok_y[t] = static_cast<int>((blk / (gx / 2)) * 2 + sub / 2);
  }

  // Patch embedding + bias + learned positions.
  float* patches = sized(sc.patches, static_cast<size_t>(n * K));
  float* x = sized(sc.x, static_cast<size_t>(n * E));
  pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      float* p = patches + t * K;
      for (int ch = 0; ch < 3; ++ch)
        for (int ky = 0; ky < ps; ++ky)
          for (int kx = 0; kx < ps; ++kx) {
            const int64_t yy = 1LL * tok_y[t] * ps + ky, xx = 1LL * tok_x[t] * ps + kx;
            *p++ = px.data[(yy * px.width + xx) * 3 + ch];
          }
      // ggml_conv_2d's im2col is F16: the pixels are rounded to F16 (docs/vision.md).
      uint16_t tmp[64];
      for (int64_t i = 0; i < K; i += 64) {
        const int64_t m = std::min<int64_t>(64, K - i);
        fp32_to_fp16_row(patches + t * K + i, tmp, m);
        fp16_to_fp32_row(tmp, patches + t * K + i, m);
      }
    }
  });
  im.patch.multiply(patches, n, x, E, im.patch_b.data(), pool, &sc.xp);
  const std::vector<float> pos =
      resize_position_grid(im.pos.data(), c.n_pos_side, static_cast<int>(E), gx, gy);
  for (int64_t t = 0; t < n; ++t) {
    float* row = x + t * E;
    const float* pr = pos.data() + (1LL * tok_y[t] * gx + tok_x[t]) * E;
    for (int64_t i = 0; i < E; ++i) row[i] += pr[i];
  }

  const VisionRope rope(hd);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t n_merged = n / 4, M = 4 * E, P = c.proj_dim;
  ImageEmbedding out;
  out.grid_w = gx / 2;
  out.grid_h = gy / 2;
  out.dim = c.out_dim();
  out.data.assign(static_cast<size_t>(n_merged * out.dim), 0.0f);

  const bool packed = gemm::packed_kernel_available();
  float* h = sized(sc.h, static_cast<size_t>(n * E));
  float* qkv = sized(sc.qkv, static_cast<size_t>(n * 3 * E));
  float* attn = sized(sc.attn, static_cast<size_t>(n * E));
  float* ff = sized(sc.ff, static_cast<size_t>(n * F));
  float* kh = packed ? nullptr : sized(sc.kh, static_cast<size_t>(n * E));
  float* vh = packed ? nullptr : sized(sc.vh, static_cast<size_t>(n * E));
  float* scores = packed ? nullptr : sized(sc.scores, static_cast<size_t>(pool.size()) * n);
  int ds_index = 0;
  for (int l = 0; l < c.n_layers; ++l) {
    const Block& b = im.blocks[l];
    pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
      for (int64_t t = t0; t < t1; ++t)
        layer_norm(x + t * E, b.ln1_w.data(), b.ln1_b.data(), h + t * E, E, c.eps);
    });
    b.qkv.multiply(h, n, qkv, 3 * E, b.qkv_b.data(), pool, &sc.xp);
    pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
      for (int64_t t = t0; t < t1; ++t) {
        float* row = qkv + t * 3 * E;
        rope.apply(row, H, tok_y[t], tok_x[t]);      // q
        rope.apply(row + E, H, tok_y[t], tok_x[t]);  // k
        if (packed) continue;
        for (int hh = 0; hh < H; ++hh) {  // K and V head-major for the attention loops
          std::memcpy(kh + (hh * n + t) * hd, row + E + hh * hd, hd * sizeof(float));
          std::memcpy(vh + (hh * n + t) * hd, row + 2 * E + hh * hd, hd * sizeof(float));
        }
      }
    });
    if (packed) {
      attention_packed(qkv, n, H, hd, scale, attn, heads, pool);
    } else {
      pool.parallel_for(H * n, [&](int64_t i0, int64_t i1, int piece) {
        float* s = scores + static_cast<int64_t>(piece) * n;
        for (int64_t i = i0; i < i1; ++i) {
          const int64_t hh = i / n, t = i % n;
          attn_scores_f32(kh + hh * n * hd, n, hd, qkv + t * 3 * E + hh * hd, scale, s);
          softmax(s, n);
          float* o = attn + t * E + hh * hd;
          std::fill(o, o + hd, 0.0f);
          attn_mix_f32(vh + hh * n * hd, n, hd, s, o);
        }
      });
    }
    b.out.multiply(attn, n, h, E, b.out_b.data(), pool, &sc.xp);
    pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
      for (int64_t t = t0; t < t1; ++t) {
        float* xr = x + t * E;
        const float* hr = h + t * E;
        for (int64_t i = 0; i < E; ++i) xr[i] += hr[i];
        layer_norm(xr, b.ln2_w.data(), b.ln2_b.data(), h + t * E, E, c.eps);
      }
    });
    b.up.multiply(h, n, ff, F, b.up_b.data(), pool, &sc.xp);
    pool.parallel_for(
        n, [&](int64_t t0, int64_t t1, int) { gelu_inplace(ff + t0 * F, (t1 - t0) * F); });
    b.down.multiply(ff, n, h, E, b.down_b.data(), pool, &sc.xp);
    ::qwen3::add(x, h, x, n * E);
    if (c.is_deepstack(l)) {
      ++ds_index;
      run_merger(im.deepstack[ds_index - 1], x, n_merged, M, c.eps, out.data.data() + ds_index * P,
                 out.dim, sc, pool);
    }
  }
  pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t)
      layer_norm(x + t * E, im.post_w.data(), im.post_b.data(), h + t * E, E, c.eps);
  });
  run_merger(im.merger, h, n_merged, M, c.eps, out.data.data(), out.dim, sc, pool);
  return out;
}

}  // namespace qwen3::vision
