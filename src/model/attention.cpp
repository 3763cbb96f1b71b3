// Attention for a batch of tokens over their sequences' paged KV caches (see attention.h).
#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ops.h"
#include "model/qwen3_model.h"

namespace qwen3 {

// Scores of up to this many query heads of a group fit the scratch at full context
// (every Qwen3 size up to 8B: groups of 2 or 4); larger groups run in passes.
constexpr int kScratchHeads = 4;

std::vector<AttentionScratch> make_attention_scratch(int n_threads, int n_ctx, int /*head_dim*/) {
  std::vector<AttentionScratch> s(static_cast<size_t>(std::max(1, n_threads)));
  for (auto& t : s) t.scores.resize(static_cast<size_t>(n_ctx) * kScratchHeads);
  return s;
}

void batch_attention(int layer, const AttentionShape& shape, const AttentionToken* toks,
                     const float* q, int n_tok, float* out, ThreadPool& pool,
                     std::vector<AttentionScratch>& scratch) {
  const int hd = shape.head_dim;
  const int q_dim = shape.n_head * hd;
  const int group = shape.n_head / shape.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  // One item = one token and one KV head with all the query heads that share it: the
  // head's keys and values are read from memory, and fp16 ones converted, once for the
  // whole group (the *_heads kernels; per head the same arithmetic as one at a time).
  pool.parallel_for(
      static_cast<int64_t>(n_tok) * shape.n_head_kv, [&](int64_t begin, int64_t end, int piece) {
        AttentionScratch& sc = scratch[static_cast<size_t>(piece)];
        float* scores = sc.scores.data();
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
          // Heads per pass: as many of the group as the scratch holds scores for.
          const int per_pass =
              std::max(1, std::min(group, static_cast<int>(sc.scores.size() / n_keys)));
          for (int h0 = g * group; h0 < (g + 1) * group; h0 += per_pass) {
            const int nh = std::min(per_pass, (g + 1) * group - h0);
            const float* qv = q + static_cast<size_t>(t) * q_dim + static_cast<size_t>(h0) * hd;
            float* o = out + static_cast<size_t>(t) * q_dim + static_cast<size_t>(h0) * hd;
            // Scores block by block (head i's at scores + i * n_keys), one softmax per head
            // over all of them, then the values.
            for (int j = 0; j < n_blk; ++j) {
              const int rows = std::min(bs, n_keys - j * bs);
              const void* k = kv.k_rows(table[j], layer, g);
              if (f16)
                attn_scores_f16_heads(static_cast<const uint16_t*>(k), rows, hd, qv, hd, nh, scale,
                                      scores + j * bs, n_keys);
              else
                attn_scores_f32_heads(static_cast<const float*>(k), rows, hd, qv, hd, nh, scale,
                                      scores + j * bs, n_keys);
            }
            for (int i = 0; i < nh; ++i) softmax(scores + static_cast<size_t>(i) * n_keys, n_keys);
            std::memset(o, 0, sizeof(float) * static_cast<size_t>(nh) * hd);
            for (int j = 0; j < n_blk; ++j) {
              const int rows = std::min(bs, n_keys - j * bs);
              const void* v = kv.v_rows(table[j], layer, g);
              if (f16)
                attn_mix_f16_heads(static_cast<const uint16_t*>(v), rows, hd, scores + j * bs,
                                   n_keys, nh, o, hd);
              else
                attn_mix_f32_heads(static_cast<const float*>(v), rows, hd, scores + j * bs, n_keys,
                                   nh, o, hd);
            }
          }
        }
      });
}

}  // namespace qwen3
