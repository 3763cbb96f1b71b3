// Sequence slots fed from one bounded FIFO queue: each slot is a worker thread with its
// own Pipeline (over the shared model and BatchEngine, see shared_pipelines.h). A new job
// goes to the idle slot whose last job shares the longest affinity prefix with it (as
// llama.cpp picks slots), so a request that extends a conversation lands where its KV
// cache is; queued jobs start first come, first served as slots free up (a free slot
// always takes one: the engine holds a request whose prompt the KV pool cannot take yet,
// in order of arrival). The server's Scheduler and ContinuousBatchingPipeline both run
// on it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/shared_pipelines.h"
#include "qwen3/pipeline.h"

namespace qwen3::engine {

struct SlotJob {
  std::string affinity;                // compared by common prefix with each slot's last job
  std::function<void(Pipeline&)> run;  // must not throw
  std::atomic<bool> cancelled{false};  // set by the submitter; a queued job is skipped
  std::function<void()> dropped;       // called instead of run() for a skipped job
};

class SlotPool {
 public:
  SlotPool(SharedPipelines pipelines, std::size_t max_queue);
  ~SlotPool();  // waits for running jobs, drops queued ones (they see cancelled)
  SlotPool(const SlotPool&) = delete;
  SlotPool& operator=(const SlotPool&) = delete;

  // Starts `job` on a free slot or queues it; false when the queue is full.
  bool submit(std::shared_ptr<SlotJob> job);

  std::size_t slots() const { return slots_.size(); }
  // Requests not started yet: in the queue, or on a slot waiting for KV room (their
  // first eval held by the engine); running: the others on a slot.
  std::size_t queued() const;
  std::size_t running() const;
  // For tokenizer / template calls, which are const and need no slot.
  const Pipeline& pipeline() const { return *slots_.front()->pipeline; }
  // The batching engine shared by the slots (null for backends that cannot batch).
  const BatchEngine* engine() const { return engine_.get(); }

 private:
  struct Slot {
    int index = 0;
    std::unique_ptr<Pipeline> pipeline;
    std::shared_ptr<SlotJob> job;  // set = busy
    std::string last_affinity;
    std::condition_variable cv;
    std::thread worker;
  };
  void work(Slot& slot);
  std::size_t waiting_for_kv() const;

  std::shared_ptr<BatchEngine> engine_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<std::shared_ptr<SlotJob>> queue_;
  std::size_t max_queue_;
  bool stopping_ = false;
};

}  // namespace qwen3::engine
