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
// Rows of a prompt chunk per tile of attention_paged_rows (tiles start at positions that
// are multiples of it), and the scratch floats a thread keeps for a tile's scores at
// least (384 KB: 16 rows x 2 heads up to ~3,000 positions; longer, fewer rows per pass).
constexpr int kTileRows = 16;
// A tile whose first row has fewer keys runs row by row in the one-row kernel (the same
// bits). Since both kernels spread their prefetches through PrefetchCursor, tiles win from
// the second tile of a prompt on: batch_step_bench 1b (one thread, CPU time, session-13
// Intel Xeon, load ~2) took the attention of a 128-token chunk at positions 0..127 from
// 32-33 ms to 25-26 ms with tiles from 16 keys instead of 128, of a 64-token chunk from
// 8.7-8.9 to 7.5-7.9 ms; tiles at 1,500+ keys take half the one-row time
// (bench/attention_bench).
constexpr int kTileMinKeys = 16;
constexpr size_t kTileScratch = 96 * 1024;

std::vector<AttentionScratch> make_attention_scratch(int n_threads, int n_ctx, int /*head_dim*/) {
  std::vector<AttentionScratch> s(static_cast<size_t>(std::max(1, n_threads)));
  for (auto& t : s)
    t.scores.resize(
        std::max(static_cast<size_t>(n_ctx + kScratchSlack) * kScratchHeads, kTileScratch));
  return s;
}

namespace {

// Token t continues token t - 1's run: the next position of the same sequence.
bool continues(const AttentionToken* toks, int t) {
  return t > 0 && toks[t].seq == toks[t - 1].seq && toks[t].pos == toks[t - 1].pos + 1;
}

// Unclaimed items [front, back) of one range, front in the low 32 bits, back in the high:
// its owner claims at the front, the other threads at the back.
struct alignas(64) ItemRange {
  std::atomic<uint64_t> span{0};
  bool claim(bool front, int64_t& item) {
    uint64_t v = span.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t f = v & 0xFFFFFFFFu, b = v >> 32;
      if (f >= b) return false;
      const uint64_t next = front ? (b << 32) | (f + 1) : ((b - 1) << 32) | f;
      if (span.compare_exchange_weak(v, next, std::memory_order_relaxed)) {
        item = static_cast<int64_t>(front ? f : b - 1);
        return true;
      }
    }
  }
};
constexpr int64_t kMaxItemRanges = 64;  // (more threads than this share the ranges)

uint64_t span_of(int64_t front, int64_t back) {
  return (static_cast<uint64_t>(back) << 32) | static_cast<uint64_t>(front);
}

}  // namespace

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
  // finish together (the ranges below); each item's result does not depend on the thread
  // that runs it.
  const int64_t items = static_cast<int64_t>(n_tok) * shape.n_head_kv;
  auto paged = [&](int64_t item) {
    const int t = static_cast<int>(item / shape.n_head_kv);
    const int g = static_cast<int>(item % shape.n_head_kv);
    const KvSequence& seq = *toks[t].seq;
    const KvPool& kv = seq.pool();
    PagedKv pk;
    pk.k = kv.k_rows(0, layer, g);
    pk.v = kv.v_rows(0, layer, g);
    pk.table = seq.table();
    pk.block_bytes = kv.block_bytes();
    pk.block_size = kv.block_size();
    pk.type = kv.type();
    return pk;
  };
  // A prompt chunk's tokens (a run of consecutive positions of one sequence) go in tiles
  // of up to kTileRows rows: the item of a tile's first token does the whole tile, each
  // key and value block read once for all its rows (attention_paged_rows gives every row
  // the bits it gets alone); the items of the tile's other tokens do nothing.
  auto run = [&](int64_t item, AttentionScratch& sc) {
    const int t = static_cast<int>(item / shape.n_head_kv);
    const int g = static_cast<int>(item % shape.n_head_kv);
    if (continues(toks, t) && toks[t].pos % kTileRows != 0) return;
    const PagedKv pk = paged(item);
    int end = t + 1;
    while (end < n_tok && continues(toks, end) && toks[end].pos % kTileRows != 0) ++end;
    const size_t h0 = static_cast<size_t>(g) * group * hd;
    for (int r0 = t, rows = end - t; r0 < end; r0 += rows) {
      rows = std::min(rows, end - r0);
      const int keys = toks[r0].pos + 1;
      if (keys < kTileMinKeys) rows = 1;
      while (rows > 1 &&
             attention_paged_rows_scratch(keys, rows, group, pk.block_size, hd) > sc.scores.size())
        --rows;
      if (rows > 1) {
        PagedQueries qs;
        qs.q = q + static_cast<size_t>(r0) * q_dim + h0;
        qs.row_stride = qs.out_row_stride = q_dim;
        qs.head_stride = qs.out_head_stride = hd;
        qs.out = out + static_cast<size_t>(r0) * q_dim + h0;
        qs.n_rows = rows;
        qs.n_heads = group;
        qs.n_keys = keys;
        attention_paged_rows(pk, qs, hd, scale, sc.scores.data());
        continue;
      }
      // One row: the group's heads in as many passes as the scratch needs. The next item
      // (usually this thread's next: its range runs in order) is named to the kernel, which
      // prefetches its first key blocks while it mixes its own last values.
      PagedKv one = pk;
      PagedKv next;
      if (item + 1 < items) {
        next = paged(item + 1);
        one.next = &next;
        one.next_keys = toks[(item + 1) / shape.n_head_kv].pos + 1;
      }
      int per_pass = group;
      while (per_pass > 1 &&
             attention_paged_scratch(keys, per_pass, pk.block_size) > sc.scores.size())
        --per_pass;
      if (attention_paged_scratch(keys, per_pass, pk.block_size) > sc.scores.size())
        sc.scores.resize(attention_paged_scratch(keys, per_pass, pk.block_size));
      for (int h = g * group; h < (g + 1) * group; h += per_pass) {
        const int nh = std::min(per_pass, (g + 1) * group - h);
        const size_t at = static_cast<size_t>(r0) * q_dim + static_cast<size_t>(h) * hd;
        attention_paged(one, keys, hd, q + at, hd, nh, scale, out + at, hd, sc.scores.data());
      }
    }
  };
  // Items are claimed from contiguous ranges, one per piece: a thread runs its own range
  // in order (consecutive items read neighbouring 4 KiB groups of the same blocks, one KV
  // head after the other), then takes the other ranges' last items until none is left.
  // Claimed one at a time from one shared counter, the threads read neighbouring groups
  // of the same blocks at the same moment (head g on one core, g + 1 on the other), which
  // measured 30-40 % slower than each thread walking its own part of memory.
  const int n_ranges = static_cast<int>(
      std::min<int64_t>({items, static_cast<int64_t>(scratch.size()), kMaxItemRanges}));
  ItemRange ranges[kMaxItemRanges];
  for (int r = 0; r < n_ranges; ++r)
    ranges[r].span.store(span_of(items * r / n_ranges, items * (r + 1) / n_ranges),
                         std::memory_order_relaxed);
  pool.parallel_for(n_ranges, [&](int64_t begin, int64_t end, int piece) {
    AttentionScratch& sc = scratch[static_cast<size_t>(piece)];
    int64_t item;
    for (int64_t r = begin; r < end; ++r)
      while (ranges[r].claim(true, item)) run(item, sc);
    for (int64_t k = 1; k < n_ranges; ++k)
      while (ranges[(end - 1 + k) % n_ranges].claim(false, item)) run(item, sc);
  });
}

}  // namespace qwen3
