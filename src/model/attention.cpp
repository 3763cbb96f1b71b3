// Attention for a batch of tokens over their sequences' paged KV caches (see attention.h).
#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ops.h"
#include "model/qwen3_model.h"

namespace qwen3 {

std::vector<AttentionScratch> make_attention_scratch(int n_threads, int n_ctx, int /*head_dim*/) {
  std::vector<AttentionScratch> s(static_cast<size_t>(std::max(1, n_threads)));
  for (auto& t : s) t.scores.resize(static_cast<size_t>(n_ctx));
  return s;
}

void batch_attention(int layer, const AttentionShape& shape, const AttentionToken* toks,
                     const float* q, int n_tok, float* out, ThreadPool& pool,
                     std::vector<AttentionScratch>& scratch) {
  const int hd = shape.head_dim;
  const int q_dim = shape.n_head * hd;
  const int group = shape.n_head / shape.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  // One item = one token and one KV head with all the query heads that share it, so the
  // head's keys and values are read from memory once for the whole group.
  pool.parallel_for(static_cast<int64_t>(n_tok) * shape.n_head_kv, [&](int64_t begin, int64_t end,
                                                                       int piece) {
    float* scores = scratch[static_cast<size_t>(piece)].scores.data();
    for (int64_t item = begin; item < end; ++item) {
      const int t = static_cast<int>(item / shape.n_head_kv);
      const int g = static_cast<int>(item % shape.n_head_kv);
      const KvSequence& seq = *toks[t].seq;
      const KvPool& kv = seq.pool();
      const bool f16 = kv.type() == KvType::F16;
      const int bs = kv.block_size();
      const int n_keys = toks[t].pos + 1;
      const int n_blk = (n_keys + bs - 1) / bs;
      const int* table = seq.table();
      for (int h = g * group; h < (g + 1) * group; ++h) {
        const float* qv = q + static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hd;
        float* o = out + static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hd;
        // Scores block by block, one softmax over all of them, then the values.
        for (int j = 0; j < n_blk; ++j) {
          const int rows = std::min(bs, n_keys - j * bs);
          const void* k = kv.k_rows(table[j], layer, g);
          if (f16)
            attn_scores_f16(static_cast<const uint16_t*>(k), rows, hd, qv, scale, scores + j * bs);
          else
            attn_scores_f32(static_cast<const float*>(k), rows, hd, qv, scale, scores + j * bs);
        }
        softmax(scores, n_keys);
        std::memset(o, 0, sizeof(float) * hd);
        for (int j = 0; j < n_blk; ++j) {
          const int rows = std::min(bs, n_keys - j * bs);
          const void* v = kv.v_rows(table[j], layer, g);
          if (f16)
            attn_mix_f16(static_cast<const uint16_t*>(v), rows, hd, scores + j * bs, o);
          else
            attn_mix_f32(static_cast<const float*>(v), rows, hd, scores + j * bs, o);
        }
      }
    }
  });
}

}  // namespace qwen3
