// --parallel N: N sequence slots over one model loaded once (engine::SlotPool on
// engine::BatchEngine): each slot is a worker thread with its own Pipeline and KV cache,
// their forward passes batched together (decode steps share every weight read; prompts
// ride along in chunks), fed from one bounded FIFO queue. A new job goes to the idle slot
// whose last conversation shares the longest prefix with it, so a request that extends a
// conversation lands where its KV cache is.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/slot_pool.h"
#include "qwen3/pipeline.h"

namespace qwen3::server {

using Job = engine::SlotJob;

class Scheduler {
 public:
  // Loads the model once for `parallel` slots (device and properties as for Pipeline;
  // n_ctx is per slot). batch_tokens: tokens per forward step, decode steps plus prompt
  // chunks (0 = the engine's default, 128). Backends that cannot share a model (replay, OpenVINO) get one
  // Pipeline per slot instead.
  // kv: the shared paged KV pool (kv_size positions; 0 = parallel * n_ctx).
  Scheduler(const std::string& model_path, const std::string& device, const Properties& props,
            int parallel, std::size_t max_queue, int batch_tokens = 0,
            const engine::KvPoolOptions& kv = {});
  // Slots over Pipelines built by the caller (each its own model; no batching).
  Scheduler(std::vector<std::unique_ptr<Pipeline>> pipelines, std::size_t max_queue);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts `job` on a free slot or queues it; false when the queue is full.
  bool submit(std::shared_ptr<Job> job) { return pool_.submit(std::move(job)); }

  std::size_t slots() const { return pool_.slots(); }
  std::size_t queued() const { return pool_.queued(); }
  std::size_t running() const { return pool_.running(); }
  // For tokenizer / template calls, which are const and need no slot.
  const Pipeline& pipeline() const { return pool_.pipeline(); }
  // The shared batching engine (null when the slots do not batch).
  const engine::BatchEngine* engine() const { return pool_.engine(); }

 private:
  engine::SlotPool pool_;  // destroyed first: waits for running jobs, drops queued ones
};

}  // namespace qwen3::server
