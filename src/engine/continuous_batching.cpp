// ContinuousBatchingPipeline: requests queued on an engine::SlotPool whose slots share
// one model and one BatchEngine; GenerationHandle is the request's side of it.
#include "qwen3/continuous_batching.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "engine/shared_pipelines.h"
#include "engine/slot_pool.h"

namespace qwen3 {

void SchedulerConfig::validate() const {
  if (max_num_seqs < 1 || max_num_seqs > 256)
    throw std::invalid_argument("SchedulerConfig.max_num_seqs must be 1..256");
  if (max_queue > 65536) throw std::invalid_argument("SchedulerConfig.max_queue must be <= 65536");
  if (max_num_batched_tokens > 4096)
    throw std::invalid_argument("SchedulerConfig.max_num_batched_tokens must be <= 4096");
  if (kv_cache_size > (std::size_t{1} << 26))
    throw std::invalid_argument("SchedulerConfig.kv_cache_size must be <= 67108864");
}

struct GenerationHandle::State {
  mutable std::mutex mu;
  std::condition_variable cv;
  GenerationStatus status = GenerationStatus::kWaiting;
  GenerationDelta pending;
  bool has_pending = false;
  bool done = false;
  DecodedResult result;
  std::exception_ptr error;
  std::atomic<bool> cancelled{false};
  std::weak_ptr<engine::SlotJob> job;  // the job holds the state, not the other way round
  StreamerBase* user = nullptr;

  template <class F>
  StreamingStatus add(F&& f) {
    {
      std::lock_guard<std::mutex> lock(mu);
      f(pending);
      has_pending = true;
    }
    cv.notify_all();
    return cancelled ? StreamingStatus::kStop : StreamingStatus::kContinue;
  }
  void end(DecodedResult r, std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (done) return;
      result = std::move(r);
      error = std::move(e);
      status = error ? GenerationStatus::kFailed : GenerationStatus::kFinished;
      done = true;
    }
    cv.notify_all();
  }
};

namespace {

using State = GenerationHandle::State;

// Records the request's output in its State, forwards it to the caller's streamer and
// stops the generation once the request is cancelled.
class HandleStreamer : public StreamerBase {
 public:
  explicit HandleStreamer(State& s) : s_(s) {}
  StreamingStatus on_token(std::int32_t id) override {
    return both(s_.add([&](GenerationDelta& d) { d.tokens.push_back(id); }),
                s_.user ? s_.user->on_token(id) : StreamingStatus::kContinue);
  }
  StreamingStatus on_reasoning(std::string_view t) override {
    return both(s_.add([&](GenerationDelta& d) { d.reasoning.append(t); }),
                s_.user ? s_.user->on_reasoning(t) : StreamingStatus::kContinue);
  }
  StreamingStatus on_content(std::string_view t) override {
    return both(s_.add([&](GenerationDelta& d) { d.content.append(t); }),
                s_.user ? s_.user->on_content(t) : StreamingStatus::kContinue);
  }
  StreamingStatus on_tool_call_begin(int index, const ToolCall& call) override {
    return s_.user ? s_.user->on_tool_call_begin(index, call) : StreamingStatus::kContinue;
  }
  StreamingStatus on_tool_call_arguments(int index, std::string_view delta) override {
    return s_.user ? s_.user->on_tool_call_arguments(index, delta) : StreamingStatus::kContinue;
  }
  StreamingStatus on_tool_call(int index, const ToolCall& call) override {
    return both(s_.add([&](GenerationDelta& d) { d.tool_calls.push_back(call); }),
                s_.user ? s_.user->on_tool_call(index, call) : StreamingStatus::kContinue);
  }
  void on_end(FinishReason reason) override {
    if (s_.user) s_.user->on_end(reason);
  }

 private:
  static StreamingStatus both(StreamingStatus a, StreamingStatus b) {
    return a == StreamingStatus::kStop || b == StreamingStatus::kStop ? StreamingStatus::kStop
                                                                      : StreamingStatus::kContinue;
  }
  State& s_;
};

}  // namespace

GenerationStatus GenerationHandle::status() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  return s_->status;
}

bool GenerationHandle::finished() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  return s_->done && !s_->has_pending;
}

GenerationDelta GenerationHandle::read(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(s_->mu);
  s_->cv.wait_for(lock, timeout, [&] { return s_->has_pending || s_->done; });
  GenerationDelta out = std::move(s_->pending);
  s_->pending = GenerationDelta{};
  s_->has_pending = false;
  return out;
}

DecodedResult GenerationHandle::wait() {
  std::unique_lock<std::mutex> lock(s_->mu);
  s_->cv.wait(lock, [&] { return s_->done; });
  if (s_->error) std::rethrow_exception(s_->error);
  return s_->result;
}

void GenerationHandle::cancel() {
  s_->cancelled = true;
  if (auto job = s_->job.lock()) job->cancelled = true;
}

struct ContinuousBatchingPipeline::Impl {
  std::unique_ptr<engine::SlotPool> pool;

  template <class Run>
  GenerationHandle add(const GenerationConfig& config, StreamerBase* streamer, Run run) {
    config.validate();
    auto state = std::make_shared<State>();
    state->user = streamer;
    auto job = std::make_shared<engine::SlotJob>();
    state->job = job;
    // The job holds the state: the request runs to its end even if its handle is dropped.
    job->run = [state, run = std::move(run)](Pipeline& p) {
      {
        std::lock_guard<std::mutex> lock(state->mu);
        state->status = GenerationStatus::kRunning;
      }
      HandleStreamer s(*state);
      try {
        state->end(run(p, s), nullptr);
      } catch (...) {
        state->end(DecodedResult{}, std::current_exception());
      }
    };
    job->dropped = [state] {
      state->end(DecodedResult{},
                 std::make_exception_ptr(std::runtime_error("the request was cancelled")));
    };
    if (!pool->submit(job)) throw std::runtime_error("the request queue is full");
    return GenerationHandle(state);
  }
};

ContinuousBatchingPipeline::ContinuousBatchingPipeline(const std::string& model_path,
                                                       const SchedulerConfig& scheduler,
                                                       const std::string& device,
                                                       const Properties& properties)
    : impl_(std::make_unique<Impl>()) {
  scheduler.validate();
  impl_->pool = std::make_unique<engine::SlotPool>(
      engine::make_shared_pipelines(
          model_path, device, properties, static_cast<int>(scheduler.max_num_seqs),
          static_cast<int>(scheduler.max_num_batched_tokens),
          {static_cast<int>(scheduler.kv_cache_size), scheduler.enable_prefix_caching}),
      scheduler.max_queue);
}

ContinuousBatchingPipeline::~ContinuousBatchingPipeline() = default;

GenerationHandle ContinuousBatchingPipeline::add_request(const ChatHistory& history,
                                                         const GenerationConfig& config,
                                                         StreamerBase* streamer) {
  return impl_->add(config, streamer, [history, config](Pipeline& p, StreamerBase& s) {
    return p.generate(history, config, &s);
  });
}

GenerationHandle ContinuousBatchingPipeline::add_request(const std::string& prompt,
                                                         const GenerationConfig& config,
                                                         StreamerBase* streamer) {
  return impl_->add(config, streamer, [prompt, config](Pipeline& p, StreamerBase& s) {
    return p.generate(prompt, config, &s);
  });
}

std::vector<DecodedResult> ContinuousBatchingPipeline::generate(
    const std::vector<std::string>& prompts, const std::vector<GenerationConfig>& configs) {
  if (configs.size() != prompts.size() && configs.size() != 1)
    throw std::invalid_argument("generate: one config, or one per prompt");
  std::vector<GenerationHandle> handles;
  for (std::size_t i = 0; i < prompts.size(); ++i)
    handles.push_back(add_request(prompts[i], configs.size() == 1 ? configs[0] : configs[i]));
  std::vector<DecodedResult> out;
  for (auto& h : handles) out.push_back(h.wait());
  return out;
}

std::size_t ContinuousBatchingPipeline::running() const {
  return impl_->pool->running();
}
std::size_t ContinuousBatchingPipeline::queued() const {
  return impl_->pool->queued();
}
BatchingStats ContinuousBatchingPipeline::stats() const {
  const engine::BatchEngine* e = impl_->pool->engine();
  if (!e) return {};
  const engine::BatchEngineStats s = e->stats();
  BatchingStats b;
  b.steps = s.steps;
  b.tokens = s.tokens;
  b.max_batch = s.max_batch;
  b.multi_seq_steps = s.multi_seq_steps;
  b.prefix_hit_tokens = s.prefix_hit_tokens;
  b.kv_blocks_total = static_cast<std::uint64_t>(s.kv.blocks);
  b.kv_blocks_used = static_cast<std::uint64_t>(s.kv.used);
  b.kv_blocks_cached = static_cast<std::uint64_t>(s.kv.cached);
  b.preemptions = s.preemptions;
  b.recomputed_tokens = s.recomputed_tokens;
  return b;
}

const Pipeline& ContinuousBatchingPipeline::pipeline() const {
  return impl_->pool->pipeline();
}

}  // namespace qwen3
