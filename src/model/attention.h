// Causal grouped-query attention over paged KV caches for a batch of tokens: each token
// reads its own sequence's blocks (through its block table) up to its own position, so
// one call serves a prompt chunk of one sequence and the decode steps of many sequences
// alike.
#pragma once

#include <vector>

#include "kernels/thread_pool.h"
#include "model/kv_cache.h"

namespace qwen3 {

// Per-thread work space, sized once for the context (the token loop allocates nothing).
struct AttentionScratch {
  std::vector<float> scores;  // n_ctx per query head of a group, for up to 4 heads
};

struct AttentionShape {
  int n_head;
  int n_head_kv;
  int head_dim;
};

// Where one token of the batch attends: positions 0..pos of `seq` (its own key/value
// at pos included, so it must be stored before the call).
struct AttentionToken {
  const KvSequence* seq;
  int pos;
};

// q: n_tok x (n_head * head_dim) after q_norm and RoPE. out: n_tok x (n_head * head_dim).
// Token t attends to positions 0..toks[t].pos of toks[t].seq with scale 1/sqrt(head_dim).
// Each output row depends only on its own token, never on the rest of the batch.
void batch_attention(int layer, const AttentionShape& shape, const AttentionToken* toks,
                     const float* q, int n_tok, float* out, ThreadPool& pool,
                     std::vector<AttentionScratch>& scratch);

// Makes scratch for `n_threads` threads and caches of at most n_ctx positions.
std::vector<AttentionScratch> make_attention_scratch(int n_threads, int n_ctx, int head_dim);

}  // namespace qwen3
