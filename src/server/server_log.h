// The server's log lines (`qwen3 serve` writes them to stderr): the loading and ready
// lines, and one access line per request (method, path, status, duration, tokens), as
// text for people or as one JSON object per line (--log-format json) for machines.
// Route handlers report the tokens of the request running on their thread through
// note_tokens(); ServerGate opens the request's record and writes its line at the end
// (for a stream: when the stream ends).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace qwen3::server {

enum class LogFormat { kText, kJson };

// "text" or "json"; throws std::invalid_argument naming the choices otherwise.
LogFormat parse_log_format(const std::string& name);

// One request in flight.
struct AccessRecord {
  std::string remote, method, path;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::atomic<std::size_t> prompt_tokens{0}, completion_tokens{0};
  std::atomic<bool> has_tokens{false};
};

// Makes `r` the record of the request running on this thread until destroyed.
class AccessScope {
 public:
  explicit AccessScope(AccessRecord* r);
  ~AccessScope();
  AccessScope(const AccessScope&) = delete;
  AccessScope& operator=(const AccessScope&) = delete;

 private:
  AccessRecord* prev_;
};

// Adds a finished generation's tokens to the request running on this thread (if any).
void note_tokens(std::size_t prompt, std::size_t completion);

// The access line: `TIME REMOTE METHOD PATH STATUS DURATION [tokens P+C]` (plus "cut"
// when a stream ended early), or its JSON object.
std::string access_line(const AccessRecord& r, int status, bool complete, LogFormat f);

// An event line: `TIME qwen3 serve: MESSAGE`, or {"time", "event", ...fields} in JSON.
// Field values are strings or numbers (as text flagged numeric).
struct LogField {
  std::string key, value;
  bool numeric = false;
};
std::string event_line(const std::string& event, const std::string& message,
                       const std::vector<LogField>& fields, LogFormat f);

// The current UTC time as 2026-01-02T03:04:05.678Z.
std::string log_time();

}  // namespace qwen3::server
