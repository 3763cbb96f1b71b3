// Attention for a batch of tokens over their sequences' paged KV caches (see attention.h).
#include "model/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "kernels/attention_paged.h"
#include "model/qwen3_model.h"

namespace qwen3 {

// Query heads of a group whose scores fit the scratch at full context (every Qwen3 size
// up to 8B: groups of 2 or 4); larger groups run in passes.
constexpr int kScratchHeads = 4;
// Slack for attention_paged_scratch's rounding to whole blocks and chunks.
constexpr int kScratchSlack = 256;

std::vector<AttentionScratch> make_attention_scratch(int n_threads, int n_ctx, int /*head_dim*/) {
  std::vector<AttentionScratch> s(static_cast<size_t>(std::max(1, n_threads)));
  for (auto& t : s) t.scores.resize(static_cast<size_t>(n_ctx + kScratchSlack) * kScratchHeads);
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
  // whole group, in one pass of attention_paged over the sequence's blocks.
  // Items are claimed one at a time (their costs differ: a prompt chunk's last token
  // reads many more keys than its first, sequences differ in length), so the threads
  // finish together; each item's result does not depend on the thread that runs it.
  const int64_t items = static_cast<int64_t>(n_tok) * shape.n_head_kv;
  auto paged = [&](int64_t item, int* n_keys) {
    const int t = static_cast<int>(item / shape.n_head_kv);
    const int g = static_cast<int>(item % shape.n_head_kv);
    const KvSequence& seq = *toks[t].seq;
    const KvPool& kv = seq.pool();
    *n_keys = toks[t].pos + 1;
    PagedKv pk;
    pk.k = kv.k_rows(0, layer, g);
    pk.v = kv.v_rows(0, layer, g);
    pk.table = seq.table();
    pk.block_bytes = kv.block_bytes();
    pk.block_size = kv.block_size();
    pk.f16 = kv.type() == KvType::F16;
    return pk;
  };
  std::atomic<int64_t> next{0};
  pool.parallel_for(
      std::min<int64_t>(items, static_cast<int64_t>(scratch.size())),
      [&](int64_t, int64_t, int piece) {
        AttentionScratch& sc = scratch[static_cast<size_t>(piece)];
        for (int64_t item; (item = next.fetch_add(1, std::memory_order_relaxed)) < items;) {
          int n_keys = 0;
          const PagedKv pk = paged(item, &n_keys);
          const int t = static_cast<int>(item / shape.n_head_kv);
          const int g = static_cast<int>(item % shape.n_head_kv);
          // Heads per pass: as many of the group as the scratch holds scores for.
          int per_pass = group;
          while (per_pass > 1 &&
                 attention_paged_scratch(n_keys, per_pass, pk.block_size) > sc.scores.size())
            --per_pass;
          if (attention_paged_scratch(n_keys, per_pass, pk.block_size) > sc.scores.size())
            sc.scores.resize(attention_paged_scratch(n_keys, per_pass, pk.block_size));
          for (int h0 = g * group; h0 < (g + 1) * group; h0 += per_pass) {
            const int nh = std::min(per_pass, (g + 1) * group - h0);
            const size_t at = static_cast<size_t>(t) * q_dim + static_cast<size_t>(h0) * hd;
            attention_paged(pk, n_keys, hd, q + at, hd, nh, scale, out + at, hd, sc.scores.data());
          }
        }
      });
}

}  // namespace qwen3
