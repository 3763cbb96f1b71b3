// BatchEngine: the loop that batches the sequences' evaluations (see batch_engine.h).
#include "engine/batch_engine.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace qwen3::engine {
namespace {

constexpr int kDefaultCtx = 4096;

double ms_between(std::chrono::steady_clock::time_point a,
                  std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

int context_size(const Qwen3Model& m, int n_ctx) {
  const int max_ctx = m.config().max_context();
  if (n_ctx < 0) throw std::invalid_argument("context size must not be negative");
  if (n_ctx == 0) n_ctx = std::min(max_ctx, kDefaultCtx);
  if (n_ctx > max_ctx)
    throw std::invalid_argument("context size " + std::to_string(n_ctx) +
                                " exceeds the model's maximum of " + std::to_string(max_ctx));
  return n_ctx;
}

const BatchEngineOptions& checked(const BatchEngineOptions& o) {
  if (o.max_seqs < 1 || o.max_seqs > 256)
    throw std::invalid_argument("BatchEngine: max_seqs must be 1..256");
  if (o.max_batch_tokens < o.max_seqs)
    throw std::invalid_argument("BatchEngine: max_batch_tokens must be at least max_seqs");
  if (o.block_size < 1 || o.block_size > 1024)
    throw std::invalid_argument("BatchEngine: block_size must be 1..1024");
  if (o.kv_size < 0) throw std::invalid_argument("BatchEngine: kv_size must not be negative");
  if (o.kv_size > 0 && o.kv_size < o.block_size)
    throw std::invalid_argument("KV pool of " + std::to_string(o.kv_size) +
                                " positions is smaller than one block of " +
                                std::to_string(o.block_size));
  return o;
}

int pool_blocks(const BatchEngineOptions& o, int n_ctx) {
  const long long positions =
      o.kv_size > 0 ? o.kv_size : static_cast<long long>(o.max_seqs) * n_ctx;
  const long long blocks = (positions + o.block_size - 1) / o.block_size;
  if (blocks > (1 << 24)) throw std::invalid_argument("KV pool too large");
  return static_cast<int>(blocks);
}

// The options with the step budget capped to what the pool holds with a block to spare
// (a step never needs more; a small --kv-size keeps working with the default budget).
BatchEngineOptions effective(const BatchEngineOptions& o, const Qwen3Model& m) {
  BatchEngineOptions e = checked(o);
  const long long positions =
      static_cast<long long>(pool_blocks(e, context_size(m, e.n_ctx))) * e.block_size;
  e.max_batch_tokens = static_cast<int>(std::max<long long>(
      e.max_seqs, std::min<long long>(e.max_batch_tokens, positions - e.block_size)));
  return e;
}

}  // namespace

BatchEngine::BatchEngine(std::shared_ptr<const Qwen3Model> model, const BatchEngineOptions& opts)
    : model_(std::move(model)),
      opts_(effective(opts, *model_)),
      n_ctx_(context_size(*model_, opts.n_ctx)),
      fwd_(model_, opts_.max_batch_tokens, n_ctx_, opts.n_threads),
      seqs_(static_cast<std::size_t>(opts.max_seqs)),
      batch_(static_cast<std::size_t>(opts_.max_batch_tokens)),
      seq_logits_(static_cast<std::size_t>(opts.max_seqs) *
                  static_cast<std::size_t>(model_->config().n_vocab)),
      step_logits_(seq_logits_.size()) {
  const Qwen3Config& c = model_->config();
  pool_ = std::make_unique<KvPool>(c.n_layers, c.n_head_kv, c.head_dim, opts.block_size,
                                   pool_blocks(opts, n_ctx_), opts.kv);
  // One sequence never holds more positions than the pool has: a prompt past that is a
  // context error up front, and a reply stops there (finish reason length).
  n_ctx_ = std::min(n_ctx_, pool_->n_blocks() * pool_->block_size());
  if (static_cast<long long>(pool_->n_blocks()) * pool_->block_size() <
      std::min(opts_.max_batch_tokens, n_ctx_) + pool_->block_size())
    throw std::invalid_argument("KV pool of " +
                                std::to_string(pool_->n_blocks() * pool_->block_size()) +
                                " positions cannot hold one step (" +
                                std::to_string(std::min(opts_.max_batch_tokens, n_ctx_)) +
                                " tokens) plus a block: raise kv_size");
  for (Seq& q : seqs_) {
    q.kv = std::make_unique<KvSequence>(*pool_, n_ctx_, opts.prefix_cache);
    q.lora = opts.lora;
    q.kv->set_root(lora_root(opts.lora ? opts.lora->key() : std::string()));
    seq_ptrs_.push_back(q.kv.get());
  }
  row_seq_.reserve(seqs_.size());
  order_.reserve(seqs_.size());
  take_.resize(seqs_.size());
  t0_ = std::chrono::steady_clock::now();
  if (const char* path = std::getenv("QWEN3_BATCH_TRACE"); path && *path)
    trace_ = std::fopen(path, "w");
  thread_ = std::thread([this] { loop(); });
}

long long BatchEngine::trace_us() const {
  return static_cast<long long>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0_)
          .count());
}

BatchEngine::~BatchEngine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  done_cv_.notify_all();
  thread_.join();
  for (Seq& q : seqs_) q.kv.reset();  // gives the blocks back before the pool goes
  if (trace_) std::fclose(trace_);
}

std::size_t BatchEngine::kv_bytes_per_seq() const {
  const std::size_t blocks =
      static_cast<std::size_t>((n_ctx_ + pool_->block_size() - 1) / pool_->block_size());
  return blocks * pool_->block_bytes();
}

BatchEngineStats BatchEngine::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  BatchEngineStats s = stats_;
  s.kv = pool_->stats();
  return s;
}

int BatchEngine::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const Seq& q : seqs_) n += !q.done && (q.admitting || q.resuming);
  return n;
}

int BatchEngine::logical_past(const Seq& q) const {
  return q.replay.empty() ? q.kv->n_past() : static_cast<int>(q.replay.size());
}

int BatchEngine::n_past(int s) const {
  std::lock_guard<std::mutex> lock(mu_);
  return logical_past(seqs_.at(static_cast<std::size_t>(s)));
}

void BatchEngine::truncate(int s, int n_past) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Seq& q = seqs_.at(static_cast<std::size_t>(s));
    if (!q.done) throw std::logic_error("truncate: sequence " + std::to_string(s) + " is busy");
    if (q.replay.empty()) {
      q.kv->truncate(n_past);
    } else {
      if (n_past < 0 || n_past > static_cast<int>(q.replay.size()))
        throw std::out_of_range("truncate(" + std::to_string(n_past) + "): the sequence holds " +
                                std::to_string(q.replay.size()) + " tokens");
      q.replay.resize(static_cast<std::size_t>(n_past));
    }
    if (logical_past(q) == 0) q.arrival = 0;  // its next eval starts a new request
    ++changes_;
  }
  work_cv_.notify_all();
}

void BatchEngine::release(int s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Seq& q = seqs_.at(static_cast<std::size_t>(s));
    q.expected = false;
    if (q.done) {
      q.kv->clear();
      q.replay.clear();
      q.arrival = 0;
    }
    ++changes_;
  }
  work_cv_.notify_all();
}

void BatchEngine::watch_cancel(int s, const std::atomic<bool>* flag) {
  std::lock_guard<std::mutex> lock(mu_);
  seqs_.at(static_cast<std::size_t>(s)).cancel = flag;
}

std::uint64_t BatchEngine::lora_root(const std::string& key) {
  if (key.empty()) return KvPool::kRootHash;
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, then a splitmix64 finish
  for (unsigned char c : key) h = (h ^ c) * 0x100000001b3ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h == KvPool::kRootHash ? h + 1 : h;
}

void BatchEngine::set_lora(int s, std::shared_ptr<const LoraSet> lora) {
  std::lock_guard<std::mutex> lock(mu_);
  Seq& q = seqs_.at(static_cast<std::size_t>(s));
  if (!q.done) throw std::logic_error("set_lora: sequence " + std::to_string(s) + " is busy");
  const std::uint64_t root = lora_root(lora ? lora->key() : std::string());
  q.lora = std::move(lora);
  if (root == q.kv->root()) return;
  q.kv->clear();
  q.replay.clear();
  q.arrival = 0;
  q.kv->set_root(root);
  ++changes_;
}

void BatchEngine::set_images(int s, std::shared_ptr<const VlImageSet> images) {
  std::lock_guard<std::mutex> lock(mu_);
  Seq& q = seqs_.at(static_cast<std::size_t>(s));
  if (!q.done) throw std::logic_error("set_images: sequence " + std::to_string(s) + " is busy");
  if (!model_->config().is_vl() && images && !images->empty())
    throw std::invalid_argument("set_images: the model is not Qwen3-VL");
  q.images = std::move(images);
  if (!model_->config().is_vl()) return;
  // The held tokens again under the new set: their rows now point into its images.
  static const VlImageSet kNone;
  const std::vector<std::int32_t> held = q.replay.empty() ? q.kv->tokens() : q.replay;
  const int n = static_cast<int>(held.size());
  const int placed = vl_extend(q.images ? *q.images : kNone, n_vocab(), q.vl, 0, held.data(), n);
  if (placed < n) {
    if (q.replay.empty())
      q.kv->truncate(placed);
    else
      q.replay.resize(static_cast<std::size_t>(placed));
    q.vl.resize(static_cast<std::size_t>(placed));
    if (placed == 0) q.arrival = 0;
    ++changes_;
  }
}

void BatchEngine::drop_cancelled() {
  bool any = false;
  for (Seq& q : seqs_) {
    // Decode steps (one token) finish: the streamer then stops with finish reason cancelled.
    if (q.done || q.decode || !q.cancel || !q.cancel->load()) continue;
    q.error = std::make_exception_ptr(std::runtime_error("cancelled"));
    q.done = true;
    q.resuming = false;
    q.admitting = false;
    any = true;
    ++stats_.cancelled;
  }
  if (any) done_cv_.notify_all();
}

const float* BatchEngine::eval(int s, const std::int32_t* ids, int n) {
  if (s < 0 || s >= max_seqs()) throw std::out_of_range("eval: no sequence " + std::to_string(s));
  if (n <= 0) throw std::invalid_argument("eval: no tokens");
  const int V = n_vocab();
  const bool vl = model_->config().is_vl();
  auto bad_id = [&](int i) {
    return std::invalid_argument("token id " + std::to_string(ids[i]) + " at index " +
                                 std::to_string(i) + " is outside the vocabulary of " +
                                 std::to_string(V));
  };
  for (int i = 0; i < n; ++i)
    if ((ids[i] < 0 || ids[i] >= V) && !(vl && is_image_token_id(ids[i]))) throw bad_id(i);
  std::unique_lock<std::mutex> lock(mu_);
  Seq& q = seqs_[static_cast<std::size_t>(s)];
  if (!q.done) throw std::logic_error("eval: sequence " + std::to_string(s) + " is busy");
  const int past = logical_past(q);
  if (n > n_ctx_ - past)
    throw std::length_error("context exceeded: " + std::to_string(past) + " cached + " +
                            std::to_string(n) + " new tokens > context size " +
                            std::to_string(n_ctx_));
  if (vl) {  // M-RoPE positions; an image id must name an image of set_images()
    static const VlImageSet kNone;
    const int placed = vl_extend(q.images ? *q.images : kNone, V, q.vl, past, ids, n);
    if (placed < n) {
      q.vl.resize(static_cast<std::size_t>(past));
      throw bad_id(placed);
    }
  }
  if (stopping_) throw std::runtime_error("the batch engine is stopping");
  q.decode = n == 1;
  const bool fresh = q.arrival == 0;  // the first eval of a request
  if (fresh) q.arrival = next_arrival_++;
  if (!q.replay.empty()) {  // preempted while sampling: its tokens run again first
    q.buf.assign(q.replay.begin(), q.replay.end());
    q.buf.insert(q.buf.end(), ids, ids + n);
    q.recompute = static_cast<int>(q.replay.size());
    q.replay.clear();
    q.resuming = true;  // adopts what is still cached when it resumes
    ids = q.buf.data();
    n = static_cast<int>(q.buf.size());
  }
  // Whole blocks of this prefix another request computed: taken, not recomputed.
  const int adopted = q.resuming ? 0 : q.kv->adopt(ids, n);
  stats_.prefix_hit_tokens += static_cast<std::uint64_t>(adopted);
  ids += adopted;
  n -= adopted;
  q.admitting = fresh && !q.resuming;
  q.ids = ids;
  q.n = n;
  q.next = 0;
  q.done = false;
  q.expected = false;
  q.error = nullptr;
  q.ticket = next_ticket_++;
  ++changes_;
  if (trace_) std::fprintf(trace_, "E %d %lld %d\n", s, trace_us(), n);
  // While the loop gathers the last step's sequences, only the last of them wakes it.
  bool due = false;  // another sequence of the last step has not come back yet
  for (const Seq& o : seqs_) due = due || (o.expected && o.done);
  if (!gathering_ || !due) work_cv_.notify_all();
  done_cv_.wait(lock, [&] { return q.done || stopping_; });
  if (trace_) std::fprintf(trace_, "R %d %lld\n", s, trace_us());
  if (!q.done) throw std::runtime_error("the batch engine stopped");
  if (q.error) {
    std::exception_ptr e = q.error;
    q.error = nullptr;
    std::rethrow_exception(e);
  }
  return seq_logits_.data() + static_cast<std::size_t>(s) * static_cast<std::size_t>(V);
}

void BatchEngine::fail_for_kv(int s) {
  Seq& q = seqs_[static_cast<std::size_t>(s)];
  const KvPoolStats ps = pool_->stats();
  q.error = std::make_exception_ptr(std::length_error(
      "the KV cache pool is full: the request holds " + std::to_string(q.kv->n_past()) +
      " positions and needs more, but all " + std::to_string(ps.used) + " of " +
      std::to_string(ps.blocks) + " blocks of " + std::to_string(pool_->block_size()) +
      " positions are in use (raise --kv-size)"));
  q.done = true;
  q.resuming = false;
  q.admitting = false;
  q.kv->clear();
  ++stats_.kv_full;
  done_cv_.notify_all();
}

int BatchEngine::victim_for(int s, bool force) const {
  // The youngest request younger than s that holds blocks; when forced, else the youngest
  // idle one of any age (a paused conversation, or a request whose caller has not come
  // back since a whole gather_wait).
  const std::uint64_t after = seqs_[static_cast<std::size_t>(s)].arrival;
  int young = -1, idle = -1;
  for (int v = 0; v < max_seqs(); ++v) {
    const Seq& q = seqs_[static_cast<std::size_t>(v)];
    if (v == s || q.kv->n_blocks() == 0) continue;
    auto younger = [&](int b) {
      return b < 0 || q.arrival > seqs_[static_cast<std::size_t>(b)].arrival;
    };
    if (q.arrival > after && younger(young)) young = v;
    if (force && q.done && !q.expected && younger(idle)) idle = v;
  }
  return young >= 0 ? young : idle;
}

void BatchEngine::preempt(int v) {
  Seq& q = seqs_[static_cast<std::size_t>(v)];
  const std::vector<std::int32_t>& held = q.kv->tokens();
  if (q.done) {
    q.replay.assign(held.begin(), held.end());
  } else {  // its pending eval: the tokens it held, then the ids it has not run yet
    std::vector<std::int32_t> rest(held.begin(), held.end());
    rest.insert(rest.end(), q.ids + q.next, q.ids + q.n);
    q.buf.swap(rest);  // q.ids may point into the old buf: swapped, not overwritten
    q.ids = q.buf.data();
    q.n = static_cast<int>(q.buf.size());
    q.next = 0;
    q.resuming = true;
  }
  q.recompute = static_cast<int>(held.size());
  q.kv->clear();
  ++stats_.preemptions;
}

bool BatchEngine::ready_to_step(std::chrono::steady_clock::time_point first_wait) const {
  if (std::chrono::steady_clock::now() - first_wait >= opts_.gather_wait) return true;
  for (const Seq& q : seqs_)
    if (q.expected && q.done) return false;  // served last step, next eval not in yet
  return true;
}

int BatchEngine::build_batch(bool force) {
  // Pending sequences, oldest request first.
  order_.clear();
  for (int s = 0; s < max_seqs(); ++s)
    if (!seqs_[static_cast<std::size_t>(s)].done) order_.push_back(s);
  std::sort(order_.begin(), order_.end(), [&](int a, int b) {
    const Seq &x = seqs_[static_cast<std::size_t>(a)], &y = seqs_[static_cast<std::size_t>(b)];
    return x.arrival != y.arrival ? x.arrival < y.arrival : x.ticket < y.ticket;
  });
  // A new request starts, and a preempted one resumes, once the pool holds all its
  // prompt (or all it recomputes) plus a block (so the requests it joins can still grow
  // a little, and it is not preempted again at once): a long prompt does not start taking
  // blocks older requests need, to be thrown out and computed again. Until then it and
  // the newer requests that hold no blocks yet wait (first come, first served, so a big
  // request is not starved by small ones). Resuming, it first adopts the blocks of its
  // own that are still cached.
  const int bs = pool_->block_size();
  bool blocked = false;
  int promised = 0;  // blocks the requests started in this loop will take
  std::size_t kept = 0;
  for (int s : order_) {
    Seq& q = seqs_[static_cast<std::size_t>(s)];
    if (q.resuming || q.admitting) {
      const int held = q.kv->n_blocks();  // a new request's adopted prefix
      const int blocks = std::max((q.kv->n_past() + q.n - q.next + bs - 1) / bs - held, 0);
      const int need = std::min(blocks + 1, pool_->n_blocks() - held);
      auto room = [&] { return pool_->available() - promised; };
      if (force && !blocked)
        for (int v; room() < need && (v = victim_for(s, true)) >= 0;) preempt(v);
      if (blocked || room() < need) {
        blocked = true;
        continue;
      }
      promised += blocks;
      q.admitting = false;
      if (q.resuming) {
        q.resuming = false;
        const int adopted = q.kv->adopt(q.ids + q.next, q.n - q.next);
        stats_.recomputed_tokens += static_cast<std::uint64_t>(std::max(0, q.recompute - adopted));
        stats_.prefix_hit_tokens += static_cast<std::uint64_t>(std::max(0, adopted - q.recompute));
        q.next += adopted;
      }
    } else if (blocked && q.kv->n_blocks() == 0) {
      continue;
    }
    order_[kept++] = s;
  }
  order_.resize(kept);
  // Tokens per sequence: one each first, then the rest of the chunk budget (4/5 of the
  // step) to the prompts, in the same order; a prompt whose remainder then fits in the
  // step's last fifth takes it whole (BatchEngineOptions::max_batch_tokens).
  std::vector<int>& take = take_;
  std::fill(take.begin(), take.end(), 0);
  int tail_room = opts_.max_batch_tokens / 5;
  int budget = opts_.max_batch_tokens - tail_room;
  for (int s : order_) {
    take[static_cast<std::size_t>(s)] = 1;
    --budget;
  }
  for (int s : order_) {
    if (budget <= 0) break;
    const Seq& q = seqs_[static_cast<std::size_t>(s)];
    const int rest = q.n - q.next - 1;
    int more = std::min(budget, rest);
    if (rest > more && rest - more <= tail_room) {
      tail_room -= rest - more;
      more = rest;
    }
    take[static_cast<std::size_t>(s)] += more;
    budget -= more;
  }
  // Blocks for those tokens, oldest request first. One that gets none takes the blocks of
  // the youngest request holding some (preempted, recomputed later); with no younger one
  // it waits, unless it holds the whole pool itself (it can never grow: it fails).
  kept = 0;
  for (std::size_t i = 0; i < order_.size(); ++i) {
    const int s = order_[i];
    Seq& q = seqs_[static_cast<std::size_t>(s)];
    int& count = take[static_cast<std::size_t>(s)];
    if (q.done || q.resuming) {  // preempted for an older request of this step
      count = 0;
      continue;
    }
    int got = q.kv->reserve(count);
    while (got == 0) {
      const int v = victim_for(s, force);
      if (v < 0) break;
      preempt(v);
      take[static_cast<std::size_t>(v)] = 0;
      got = q.kv->reserve(count);
    }
    count = got;
    if (got > 0) {
      order_[kept++] = s;
      continue;
    }
    bool alone = true;  // no other sequence holds a block: s can never grow
    for (int o = 0; o < max_seqs(); ++o)
      if (o != s && seqs_[static_cast<std::size_t>(o)].kv->n_blocks() > 0) alone = false;
    if (alone && pool_->available() == 0) fail_for_kv(s);
  }
  order_.resize(kept);
  // The tokens go in sequence order (a row's results do not depend on where it sits in
  // the batch), so the logits rows of a step of consecutive sequences can be written
  // straight into seq_logits_ (loop()).
  std::sort(order_.begin(), order_.end());
  int n = 0;
  row_seq_.clear();
  for (int s : order_) {
    const Seq& q = seqs_[static_cast<std::size_t>(s)];
    const int count = take[static_cast<std::size_t>(s)];
    for (int i = 0; i < count; ++i) {
      const int j = q.next + i;
      const bool last = j == q.n - 1;
      const int pos = q.kv->n_past() + i;
      batch_[static_cast<std::size_t>(n++)] = {q.ids[j], s, pos, last, q.lora.get()};
      if (!q.vl.empty() && vl_needed(q.vl[static_cast<std::size_t>(pos)], pos))
        batch_[static_cast<std::size_t>(n - 1)].vl = &q.vl[static_cast<std::size_t>(pos)].in;
      if (last) row_seq_.push_back(s);
    }
  }
  return n;
}

void BatchEngine::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  auto any_pending = [&] {
    return std::any_of(seqs_.begin(), seqs_.end(), [](const Seq& q) { return !q.done; });
  };
  for (;;) {
    if (trace_ && !any_pending()) std::fflush(trace_);
    // Gaps this long cost a sleeping worker's wake-up (tens of us) less than its spinning.
    constexpr double kRestGapMs = 0.5;
    if (gap_ms_ >= kRestGapMs && !any_pending()) fwd_.rest_threads();
    work_cv_.wait(lock, [&] { return stopping_ || any_pending(); });
    if (stopping_) return;
    const auto first_wait = std::chrono::steady_clock::now();
    gathering_ = true;
    work_cv_.wait_until(lock, first_wait + opts_.gather_wait,
                        [&] { return stopping_ || ready_to_step(first_wait); });
    gathering_ = false;
    if (stopping_) return;
    const auto gathered = std::chrono::steady_clock::now();
    stats_.gather_ms += ms_between(first_wait, gathered);
    drop_cancelled();
    if (!any_pending()) continue;
    const std::uint64_t seen = changes_;
    int n = build_batch(false);
    if (n == 0) n = build_batch(true);
    if (n == 0) {
      // Nothing can run: the blocks are held by older requests that are sampling, or a
      // preempted one waits for room. Retry when a sequence evals, truncates or ends
      // (and now and then, for cancel flags).
      const bool changed = work_cv_.wait_for(lock, std::chrono::milliseconds(20),
                                             [&] { return stopping_ || changes_ != seen; });
      if (stopping_) return;
      if (!changed)  // who was expected back did not come: it may be preempted now
        for (Seq& q : seqs_) q.expected = false;
      continue;
    }
    // The sequences in the batch are blocked in eval(); others may queue meanwhile.
    lock.unlock();
    const auto fwd_start = std::chrono::steady_clock::now();
    if (stats_.steps > 0)  // capped at the workers' own 2 ms of spinning and yielding
      gap_ms_ += 0.25 * (std::min(2.0, ms_between(last_fwd_end_, fwd_start)) - gap_ms_);
    std::exception_ptr error;
    // The logits rows go to their sequences' rows of seq_logits_: straight there when the
    // rows belong to consecutive sequences (every busy slot in order, or one sequence),
    // else through step_logits_ and a copy. The sequences of the step wait in eval() until
    // done is set below, so nobody reads their rows now (rows of sequences not in the step
    // are not touched), and row_seq_ changes only on this thread (build_batch).
    const std::size_t V = static_cast<std::size_t>(n_vocab());
    bool direct = true;
    for (std::size_t r = 0; r < row_seq_.size(); ++r)
      direct = direct && row_seq_[r] == row_seq_[0] + static_cast<int>(r);
    float* out = direct && !row_seq_.empty()
                     ? seq_logits_.data() + static_cast<std::size_t>(row_seq_[0]) * V
                     : step_logits_.data();
    try {
      fwd_.forward(batch_.data(), n, seq_ptrs_.data(), max_seqs(), out);
    } catch (...) {
      error = std::current_exception();
    }
    const auto fwd_end = std::chrono::steady_clock::now();
    last_fwd_end_ = fwd_end;
    if (!error && out == step_logits_.data())
      for (std::size_t r = 0; r < row_seq_.size(); ++r)
        std::copy_n(step_logits_.data() + r * V, V,
                    seq_logits_.data() + static_cast<std::size_t>(row_seq_[r]) * V);
    lock.lock();
    ++stats_.steps;
    stats_.tokens += static_cast<std::uint64_t>(n);
    stats_.max_batch = std::max<std::uint64_t>(stats_.max_batch, static_cast<std::uint64_t>(n));
    if (order_.size() > 1) ++stats_.multi_seq_steps;
    ++stats_.seqs_per_step[std::min(order_.size(), stats_.seqs_per_step.size()) - 1];
    for (Seq& q : seqs_) q.expected = false;
    for (int s : order_) {
      Seq& q = seqs_[static_cast<std::size_t>(s)];
      if (error) {
        q.error = error;
        q.done = true;
        continue;
      }
      const int count = take_[static_cast<std::size_t>(s)];
      q.kv->commit(q.ids + q.next, count);
      q.next += count;
      if (q.next == q.n) {
        q.done = true;
        q.expected = true;
      }
    }
    if (trace_) {
      auto us = [&](std::chrono::steady_clock::time_point t) {
        return static_cast<long long>(
            std::chrono::duration_cast<std::chrono::microseconds>(t - t0_).count());
      };
      std::fprintf(trace_, "S %lld %lld %lld %lld %d %zu %zu\n", us(first_wait), us(fwd_start),
                   us(fwd_end), trace_us(), n, order_.size(), row_seq_.size());
    }
    stats_.forward_ms += ms_between(fwd_start, fwd_end);
    stats_.schedule_ms +=
        ms_between(gathered, fwd_start) + ms_between(fwd_end, std::chrono::steady_clock::now());
    done_cv_.notify_all();
  }
}

}  // namespace qwen3::engine
