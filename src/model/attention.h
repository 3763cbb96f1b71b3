// Causal grouped-query attention over the KV cache for a batch of consecutive tokens.
#pragma once

#include <vector>

#include "kernels/thread_pool.h"
#include "model/kv_cache.h"

namespace qwen3 {

// Per-thread work space, sized once for the context (the token loop allocates nothing).
struct AttentionScratch {
  std::vector<float> scores;  // n_ctx
};

struct AttentionShape {
  int n_head;
  int n_head_kv;
  int head_dim;
};

// q: n_tok x (n_head * head_dim) after q_norm and RoPE, token t at position pos0 + t,
// whose keys/values are already in the cache. out: n_tok x (n_head * head_dim).
// Token t attends to positions 0..pos0+t with scale 1/sqrt(head_dim).
void causal_attention(const KvCache& cache, int layer, const AttentionShape& shape, const float* q,
                      int n_tok, int pos0, float* out, ThreadPool& pool,
                      std::vector<AttentionScratch>& scratch);

// Makes scratch for `n_threads` threads and a context of n_ctx.
std::vector<AttentionScratch> make_attention_scratch(int n_threads, int n_ctx, int head_dim);

}  // namespace qwen3
