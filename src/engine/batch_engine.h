// The continuous-batching core: one loaded model, many sequences. Each sequence owns only
// its KV blocks and a logits row; a loop thread gathers the pending evaluations of all
// sequences into one BatchForward step, so the decode steps of every active sequence share
// each weight read, and long prompts are cut into chunks that ride along with the decode
// steps (chunked prefill: a prompt never stalls the streams already running).
//
// KV memory is one paged pool (model/kv_cache.h) sized by kv_size: a sequence takes
// blocks as it grows and gives them back on truncate()/release(). Full blocks are shared
// by prefix: eval() first adopts the cached blocks that hold the same tokens after the
// same prefix (another request's system prompt, the earlier turns of a conversation) and
// computes only the rest. A sequence's context is at most the pool (n_ctx() is capped to
// it), so any one request fits once the others make room.
//
// When the pool is full, requests are preempted and recomputed (as vLLM does): blocks go
// to the sequences oldest request first; one that cannot get a block takes them from the
// youngest request that holds some. That request's blocks go back to the pool (full ones
// stay cached, so a prefix nobody overwrote is adopted again rather than recomputed) and
// its tokens are kept: its pending eval (or its next one, if it is sampling) first runs
// them again, then its new tokens, so its caller only sees a slower step with the same
// logits. A preempted request resumes once the pool has room for all it recomputes, and
// new requests wait behind it. A new request likewise starts once the pool has room for
// its whole prompt (after the blocks it adopts), so a long prompt is not started only to
// be preempted: its eval() waits, first come first served (waiting()).
//
// A sequence's thread calls eval() and blocks until its tokens are through; eval() of a
// single sequence gives the same logits as InferenceContext (bit for bit), whatever else
// shares its batches. Scheduling per step: every waiting sequence first gets one token
// (decode steps and the next prompt token alike, round-robin from where the last step
// stopped), then the remaining token budget goes to prompts, oldest request first.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/vl_images.h"
#include "model/batch_forward.h"
#include "model/kv_cache.h"
#include "model/qwen3_model.h"

namespace qwen3::engine {

struct BatchEngineOptions {
  int max_seqs = 4;               // sequences (each with its own block table)
  int n_ctx = 0;                  // tokens per sequence at most; 0 = min(model max, 4096)
  int kv_size = 0;                // positions in the shared KV pool; 0 = max_seqs * n_ctx
  int block_size = kKvBlockSize;  // positions per KV block
  bool prefix_cache = true;       // share full blocks between sequences by token prefix
  KvType kv = KvType::F16;
  int n_threads = 0;  // 0 = the model's default (physical cores)
  // Tokens per forward step (>= max_seqs): decode tokens plus prompt chunks. 128 takes a
  // typical chat prompt in one step, as InferenceContext does alone (bench/
  // batch_step_bench part 1b: a prompt token costs the same in chunks of 16 to 128, so
  // fewer, larger chunks save the per-step work and the newcomer's time to first token;
  // the decode streams wait once for a whole chunk instead of several times for smaller
  // ones). Capped to the pool's positions less one block (a small kv_size). Prompt chunks
  // fill the first 4/5 of it; the last fifth takes the tail of a prompt that then fits
  // whole, so a prompt is not cut to leave a short tail for the next step (where it would
  // wait for the next prompt's chunk): 160 takes a ~130-token chat prompt next to the
  // decode tokens of 8 streams in one step, and chunks longer prompts by ~128.
  int max_batch_tokens = 160;
  // LoRA adapters every sequence runs with until set_lora() (nullptr = the base model).
  std::shared_ptr<const LoraSet> lora;
  // How long a step waits for sequences that were served by the previous step and are
  // sampling their next token (after that it runs without them).
  std::chrono::microseconds gather_wait{5000};
};

struct BatchEngineStats {
  std::uint64_t steps = 0;            // forward steps run
  std::uint64_t tokens = 0;           // tokens through them
  std::uint64_t max_batch = 0;        // the largest step
  std::uint64_t multi_seq_steps = 0;  // steps that held tokens of 2+ sequences
  // Steps by the number of sequences in them: [i] = steps with i+1 sequences, the last
  // bucket also counting larger ones (a /metrics batch-size histogram).
  std::array<std::uint64_t, 16> seqs_per_step{};
  std::uint64_t cancelled = 0;          // evals ended by watch_cancel()
  std::uint64_t prefix_hit_tokens = 0;  // prompt tokens taken from cached KV blocks
  std::uint64_t kv_full = 0;            // evals failed because the KV pool was full
  std::uint64_t preemptions = 0;        // requests whose blocks were taken for older ones
  std::uint64_t recomputed_tokens = 0;  // tokens computed again after a preemption
  // Where the loop's time goes (milliseconds): in forward passes; waiting for sequences
  // of the previous step that are still sampling (gather_wait); building the batch and
  // handing the results back (under the lock, between two forward passes).
  double forward_ms = 0, gather_ms = 0, schedule_ms = 0;
  KvPoolStats kv;  // the pool now
};

class BatchEngine {
 public:
  BatchEngine(std::shared_ptr<const Qwen3Model> model, const BatchEngineOptions& opts);
  ~BatchEngine();  // stops the loop; sequences must not be inside eval() any more
  BatchEngine(const BatchEngine&) = delete;
  BatchEngine& operator=(const BatchEngine&) = delete;

  int max_seqs() const { return static_cast<int>(seqs_.size()); }
  // Tokens one sequence holds at most: options.n_ctx, capped to the pool's positions.
  int n_ctx() const { return n_ctx_; }
  int n_vocab() const { return model_->config().n_vocab; }
  const Qwen3Model& model() const { return *model_; }
  std::shared_ptr<const Qwen3Model> model_ptr() const { return model_; }

  // Sequence s (0..max_seqs-1), used by one thread at a time. Appends ids[0..n) after
  // the cached tokens and returns the last one's logits (n_vocab floats, valid until the
  // sequence's next eval). Throws std::length_error past n_ctx, std::invalid_argument on
  // a bad id (before anything is queued).
  const float* eval(int s, const std::int32_t* ids, int n);
  int n_past(int s) const;
  void truncate(int s, int n_past);  // keep the first n_past cached tokens
  // The sequence's request ended: its blocks go back to the pool (full ones stay cached
  // for prefix reuse), n_past becomes 0, and steps stop waiting for it.
  void release(int s);
  // Sequences whose request waits for room in the pool: new ones until the free and
  // cached blocks hold their prompt plus one block, preempted ones until they hold all
  // they recompute plus one (and the newer requests queued behind them).
  int waiting() const;
  // While set, a true *flag ends the sequence's pending prompt eval (2+ tokens) at the
  // next step with std::runtime_error("cancelled"): a client that left in the middle of a
  // long prompt stops costing compute. Decode steps (1 token) run: the caller stops at
  // its token. nullptr clears it.
  void watch_cancel(int s, const std::atomic<bool>* flag);
  // The LoRA adapters sequence s runs with from its next eval (nullptr = the base model;
  // per-request adapters). The prefix cache is keyed by the set's LoraSet::key(): blocks
  // are shared only between sequences running the same adapters with the same scales.
  // A key other than the sequence's current one empties it (n_past becomes 0: its tokens
  // were computed with other adapters); the same key keeps its tokens. Not during eval().
  void set_lora(int s, std::shared_ptr<const LoraSet> lora);
  // Qwen3-VL: the images sequence s's ids may name from its next eval (engine/vl_images.h:
  // an image is a run of its own negative ids, so the prefix cache tells images apart).
  // Cached tokens of images not in the set are dropped (n_past shrinks to the first one).
  // Not during eval().
  void set_images(int s, std::shared_ptr<const VlImageSet> images);

  // KV bytes n_ctx positions take (pages become resident as they are written).
  std::size_t kv_bytes_per_seq() const;
  std::size_t kv_pool_bytes() const { return pool_->bytes(); }
  int block_size() const { return pool_->block_size(); }
  BatchEngineStats stats() const;

 private:
  struct Seq {
    std::unique_ptr<KvSequence> kv;  // block table + the tokens it holds
    // The pending eval: ids[next..n) still to run.
    const std::int32_t* ids = nullptr;
    int n = 0, next = 0;
    std::uint64_t ticket = 0;  // arrival order of the pending eval (0 = none)
    bool done = true;          // the pending eval finished (or there is none)
    bool expected = false;     // served last step: its next eval is probably coming
    const std::atomic<bool>* cancel = nullptr;  // watch_cancel()
    std::exception_ptr error;
    std::uint64_t arrival = 0;  // order of the request (first eval since release); 0 = none
    // Preempted while not in eval(): the tokens its blocks held, run again before the ids
    // of its next eval. Empty otherwise (then kv holds all its tokens).
    std::vector<std::int32_t> replay;
    std::vector<std::int32_t> buf;  // owns ids of a pending eval that was preempted
    bool resuming = false;          // preempted pending eval: waits for room, adopts first
    bool admitting = false;         // a request's first eval: waits for room for its prompt
    int recompute = 0;              // tokens of ids it held before it was preempted
    bool decode = false;            // the pending eval was one token (not cancellable)
    // set_lora(); its key picks kv's root hash.
    std::shared_ptr<const LoraSet> lora;
    // Qwen3-VL models: set_images(), and each position's M-RoPE input (every token the
    // sequence holds or is evaluating; vl_images.h).
    std::shared_ptr<const VlImageSet> images;
    std::vector<VlSlot> vl;
  };
  // The root hash of a LoRA set key: the base's for "", else a 64-bit hash of the key
  // (as likely to collide as two block chains are: never in practice).
  static std::uint64_t lora_root(const std::string& key);
  void loop();
  void drop_cancelled();  // ends the pending evals whose cancel flag is set
  bool ready_to_step(std::chrono::steady_clock::time_point first_wait) const;
  // Fills batch_ from the pending evals; returns its size. force: the oldest preempted
  // request waiting for room takes it from younger ones (nothing else could run).
  int build_batch(bool force);
  void fail_for_kv(int s);  // s cannot fit even with every other request preempted
  // Frees the blocks of sequence v, keeping its tokens to recompute (see the header).
  void preempt(int v);
  // Whose blocks s may take: the youngest request younger than s holding some; forced,
  // else the youngest idle one holding some; -1 if none.
  int victim_for(int s, bool force) const;
  int logical_past(const Seq& q) const;  // tokens the sequence holds, preempted ones included

  std::shared_ptr<const Qwen3Model> model_;
  BatchEngineOptions opts_;
  int n_ctx_;
  BatchForward fwd_;
  std::unique_ptr<KvPool> pool_;
  std::vector<Seq> seqs_;
  std::vector<KvSequence*> seq_ptrs_;
  std::vector<BatchToken> batch_;
  std::vector<int> row_seq_;  // sequence of each logits row of the step
  std::vector<int> order_;    // sequences in the step (oldest request first, then by index)
  std::vector<int> take_;     // tokens each sequence has in the step
  // The last eval's logits of each sequence: row s of n_vocab floats for sequence s. A
  // step whose logits rows belong to consecutive sequences (the tokens are emitted in
  // sequence order, so a step of every busy slot usually does) has the lm_head write
  // them there directly; otherwise into step_logits_, then copied.
  std::vector<float> seq_logits_;
  std::vector<float> step_logits_;  // max_seqs rows of n_vocab
  std::uint64_t next_ticket_ = 1;
  std::uint64_t next_arrival_ = 1;
  std::uint64_t changes_ = 0;  // evals queued, releases, truncates: a stalled loop retries
  BatchEngineStats stats_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // sequences -> loop
  std::condition_variable done_cv_;  // loop -> sequences
  bool stopping_ = false;
  // The loop waits for the sequences of the last step to come back (gather_wait): an
  // eval() wakes it only when it is the last one expected, not once per sequence.
  bool gathering_ = false;
  // The time from a step's end to the next step's start, smoothed (ms): when it is long
  // (the sequences sample, stream and come back slowly, or the engine idles), the loop
  // lets the forward pass's workers sleep while it waits (ThreadPool::rest) rather than
  // spin and yield on a core that those threads need.
  double gap_ms_ = 0;
  std::chrono::steady_clock::time_point last_fwd_end_{};
  // QWEN3_BATCH_TRACE=FILE: one line per eval entry/return and per step, microseconds
  // since the engine started (a timeline of where a served token's time goes; see
  // docs/continuous-batching.md, "Where a served request's time goes").
  std::FILE* trace_ = nullptr;
  std::chrono::steady_clock::time_point t0_;
  long long trace_us() const;
  std::thread thread_;
};

}  // namespace qwen3::engine
