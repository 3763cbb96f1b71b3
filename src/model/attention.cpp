#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ops.h"

namespace qwen3 {

namespace {
constexpr int kChunk = 64;  // cache rows converted to float at a time
}

std::vector<AttentionScratch> make_attention_scratch(int n_threads, int n_ctx, int head_dim) {
  std::vector<AttentionScratch> s(static_cast<size_t>(std::max(1, n_threads)));
  for (auto& t : s) {
    t.scores.resize(static_cast<size_t>(n_ctx));
    t.rows.resize(static_cast<size_t>(kChunk) * head_dim);
  }
  return s;
}

void causal_attention(const KvCache& cache, int layer, const AttentionShape& shape, const float* q,
                      int n_tok, int pos0, float* out, ThreadPool& pool,
                      std::vector<AttentionScratch>& scratch) {
  const int hd = shape.head_dim;
  const int q_dim = shape.n_head * hd;
  const int group = shape.n_head / shape.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  pool.parallel_for(static_cast<int64_t>(n_tok) * shape.n_head, [&](int64_t begin, int64_t end,
                                                                    int thread) {
    AttentionScratch& s = scratch[static_cast<size_t>(thread)];
    for (int64_t item = begin; item < end; ++item) {
      const int t = static_cast<int>(item / shape.n_head);
      const int h = static_cast<int>(item % shape.n_head);
      const int g = h / group;
      const int n_keys = pos0 + t + 1;
      const float* qv = q + static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hd;
      float* o = out + static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hd;
      for (int j0 = 0; j0 < n_keys; j0 += kChunk) {
        const int n = std::min(kChunk, n_keys - j0);
        cache.read_k(layer, g, j0, n, s.rows.data());
        for (int j = 0; j < n; ++j)
          s.scores[j0 + j] = dot_f32(qv, s.rows.data() + static_cast<size_t>(j) * hd, hd) * scale;
      }
      softmax(s.scores.data(), n_keys);
      std::memset(o, 0, sizeof(float) * hd);
      for (int j0 = 0; j0 < n_keys; j0 += kChunk) {
        const int n = std::min(kChunk, n_keys - j0);
        cache.read_v(layer, g, j0, n, s.rows.data());
        for (int j = 0; j < n; ++j) {
          const float p = s.scores[j0 + j];
          const float* v = s.rows.data() + static_cast<size_t>(j) * hd;
          for (int d = 0; d < hd; ++d) o[d] += p * v[d];
        }
      }
    }
  });
}

}  // namespace qwen3
