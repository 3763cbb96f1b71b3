// One request's generation as the HTTP side sees it: a job on the Scheduler that turns
// the Pipeline's streamer callbacks into events the handler thread drains, and a cancel
// flag the handler sets when its client goes away (checked at every token).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "qwen3/pipeline.h"
#include "server/api_error.h"
#include "server/scheduler.h"

namespace qwen3::server {

struct GenEvent {
  // A tool call streams as kToolCallBegin (call: id and name), kToolCallArguments pieces
  // (text) and kToolCall (the whole call).
  enum class Kind { kReasoning, kContent, kToolCallBegin, kToolCallArguments, kToolCall };
  Kind kind;
  std::string text;  // reasoning / content / tool-call argument delta
  int index = 0;     // tool call
  ToolCall call;     // tool call, with the id the client sees
};

class Generation {
 public:
  // What runs on the slot: generate with the streamer given (stateless on the Pipeline).
  using Body = std::function<DecodedResult(Pipeline&, StreamerBase&)>;

  // Submits the job; nullptr when the queue is full.
  // `stop_all` (may be null) stops every generation when the server shuts down.
  static std::shared_ptr<Generation> start(Scheduler& scheduler, std::string affinity, Body body,
                                           const std::atomic<bool>* stop_all = nullptr);

  // Waits up to `timeout` for news; returns the events since the last call (maybe none).
  std::vector<GenEvent> take(std::chrono::milliseconds timeout);
  // True once the job ended (result() or error() is set) and every event was taken.
  bool finished() const;
  bool has_news() const;                                    // an event or the end is waiting
  bool wait_news(std::chrono::milliseconds timeout) const;  // has_news(), waiting a while
  void cancel();  // the client left: stop at the next token, or skip if queued
  bool cancelled() const;

  const DecodedResult& result() const { return result_; }
  const std::optional<ApiError>& error() const { return error_; }

 private:
  class Streamer;
  void run(Pipeline& p, const Body& body);
  void push(GenEvent e);
  void end(std::optional<ApiError> error);

  std::shared_ptr<Job> job_;
  const std::atomic<bool>* stop_all_ = nullptr;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<GenEvent> events_;
  bool done_ = false;
  DecodedResult result_;
  std::optional<ApiError> error_;
  std::vector<std::string> tool_ids_;  // by call index: the ids we gave the client
  std::string tool_id(int index);      // the client's id of call `index` (made once)
};

}  // namespace qwen3::server
