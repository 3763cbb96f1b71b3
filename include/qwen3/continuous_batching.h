// qwen3::ContinuousBatchingPipeline: many requests on one model loaded once, in the spirit
// of OpenVINO GenAI's ContinuousBatchingPipeline. Each request has its own
// GenerationConfig (sampling, seed, max tokens, stop strings, thinking); up to
// max_num_seqs of them are decoded at once, their forward passes batched into one step
// (decode steps share every weight read, prompts ride along in chunks), the rest wait
// first come, first served. A request's tokens are the same whether it runs alone or
// with others (same config and seed).
//
//   qwen3::ContinuousBatchingPipeline cb("Qwen3-0.6B-Q4_0.gguf", {4});
//   auto a = cb.add_request("Hi!", config);
//   auto b = cb.add_request("Name three colours.", config);
//   while (!a.finished()) std::cout << a.read(std::chrono::milliseconds(100)).content;
//   qwen3::DecodedResult rb = b.wait();
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qwen3/chat.h"
#include "qwen3/generation_config.h"
#include "qwen3/pipeline.h"
#include "qwen3/streamer.h"

namespace qwen3 {

struct SchedulerConfig {
  std::size_t max_num_seqs = 4;  // requests decoded at once, each with its own block table
  std::size_t max_queue = 256;   // requests waiting beyond those; add_request throws if full
  // Tokens per forward step: one per decoding request, the rest for prompt chunks
  // (0 = 160: chunks of up to 4/5 of it, and a prompt whose remainder fits in the last
  // fifth goes whole; raised to max_num_seqs if smaller).
  std::size_t max_num_batched_tokens = 0;
  // Positions in the shared paged KV cache (blocks of 16), for all requests together
  // (0 = max_num_seqs * n_ctx); also the most one request holds. A request waits in the
  // queue while the pool is full; a running one that cannot grow takes the blocks of the
  // youngest running request, which later recomputes them (its output is unchanged).
  std::size_t kv_cache_size = 0;
  // Requests whose prompts share a prefix (a system prompt, earlier turns) share its KV
  // blocks instead of computing them again; outputs are the same either way.
  bool enable_prefix_caching = true;
  void validate() const;  // std::invalid_argument naming the bad field
};

enum class GenerationStatus { kWaiting, kRunning, kFinished, kFailed };

// What a request produced since the last read().
struct GenerationDelta {
  std::vector<std::int32_t> tokens;
  std::string reasoning;
  std::string content;
  std::vector<ToolCall> tool_calls;  // complete calls
};

class GenerationHandle {
 public:
  GenerationStatus status() const;
  // True once the request ended (result or error) and everything was read.
  bool finished() const;
  // Waits up to `timeout` for output, then returns what arrived since the last read.
  GenerationDelta read(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // Waits for the end; returns the whole result or rethrows the request's error.
  DecodedResult wait();
  // Queued: never starts (wait() throws). Running: stops at the next token, finish
  // reason kCancelled; still in its prompt: stops at the next step, wait() throws.
  void cancel();

  struct State;
  explicit GenerationHandle(std::shared_ptr<State> s) : s_(std::move(s)) {}

 private:
  std::shared_ptr<State> s_;
};

// How the forward steps were filled since construction, and the KV pool now.
struct BatchingStats {
  std::uint64_t steps = 0;              // forward steps
  std::uint64_t tokens = 0;             // tokens through them
  std::uint64_t max_batch = 0;          // the largest step, in tokens
  std::uint64_t multi_seq_steps = 0;    // steps that held tokens of 2+ requests
  std::uint64_t prefix_hit_tokens = 0;  // prompt tokens taken from cached KV blocks
  std::uint64_t kv_blocks_total = 0;    // blocks in the pool
  std::uint64_t kv_blocks_used = 0;     // held by running requests
  std::uint64_t kv_blocks_cached = 0;   // held by nobody, kept for prefix reuse
  // The pool was full: requests whose blocks went to older ones, and the tokens they
  // computed again when they resumed.
  std::uint64_t preemptions = 0;
  std::uint64_t recomputed_tokens = 0;
};

class ContinuousBatchingPipeline {
 public:
  // model_path, device, properties as for Pipeline ("n_ctx" is per sequence).
  explicit ContinuousBatchingPipeline(const std::string& model_path,
                                      const SchedulerConfig& scheduler = {},
                                      const std::string& device = "CPU",
                                      const Properties& properties = {});
  ~ContinuousBatchingPipeline();  // cancels what is queued, waits for running requests
  ContinuousBatchingPipeline(const ContinuousBatchingPipeline&) = delete;
  ContinuousBatchingPipeline& operator=(const ContinuousBatchingPipeline&) = delete;

  // Queues a request (a chat, or one prompt: a user message, or raw text with
  // config.apply_chat_template false). `streamer` (optional) is called from a worker
  // thread. Throws std::invalid_argument for a bad config, std::runtime_error if the queue
  // is full.
  GenerationHandle add_request(const ChatHistory& history, const GenerationConfig& config,
                               StreamerBase* streamer = nullptr);
  GenerationHandle add_request(const std::string& prompt, const GenerationConfig& config,
                               StreamerBase* streamer = nullptr);
  // All at once; results in order.
  std::vector<DecodedResult> generate(const std::vector<std::string>& prompts,
                                      const std::vector<GenerationConfig>& configs);

  std::size_t running() const;  // requests being decoded
  std::size_t queued() const;   // requests waiting for a sequence
  BatchingStats stats() const;
  // Tokenizer, template and model facts (const calls only).
  const Pipeline& pipeline() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qwen3
