// The server's log lines: server_log.h.
#include "server/server_log.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace qwen3::server {
namespace {

thread_local AccessRecord* tl_record = nullptr;

using OJson = nlohmann::ordered_json;

std::string duration_text(double ms) {
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s", ms / 1000);
  }
  return buf;
}

}  // namespace

LogFormat parse_log_format(const std::string& name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  throw std::invalid_argument("--log-format must be text or json, not '" + name + "'");
}

AccessScope::AccessScope(AccessRecord* r) : prev_(tl_record) {
  tl_record = r;
}

AccessScope::~AccessScope() {
  tl_record = prev_;
}

void note_tokens(std::size_t prompt, std::size_t completion) {
  if (!tl_record) return;
  tl_record->prompt_tokens += prompt;
  tl_record->completion_tokens += completion;
  tl_record->has_tokens = true;
}

std::string log_time() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t t = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string access_line(const AccessRecord& r, int status, bool complete, LogFormat f) {
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - r.start).count();
  if (f == LogFormat::kJson) {
    OJson j = {{"time", log_time()},
               {"event", "request"},
               {"remote", r.remote},
               {"method", r.method},
               {"path", r.path},
               {"status", status},
               {"ms", std::round(ms * 10) / 10}};
    if (r.has_tokens) {
      j["prompt_tokens"] = r.prompt_tokens.load();
      j["completion_tokens"] = r.completion_tokens.load();
    }
    if (!complete) j["complete"] = false;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = log_time() + " " + (r.remote.empty() ? "-" : r.remote) + " " + r.method + " " +
                     r.path + " " + std::to_string(status) + " " + duration_text(ms);
  if (r.has_tokens) {
    line += " tokens " + std::to_string(r.prompt_tokens.load()) + "+" +
            std::to_string(r.completion_tokens.load());
  }
  if (!complete) line += " (cut)";
  return line;
}

std::string event_line(const std::string& event, const std::string& message,
                       const std::vector<LogField>& fields, LogFormat f) {
  if (f == LogFormat::kJson) {
    OJson j = {{"time", log_time()}, {"event", event}};
    for (const auto& fld : fields) {
      if (fld.numeric) {
        j[fld.key] = OJson::parse(fld.value, nullptr, false);
      } else {
        j[fld.key] = fld.value;
      }
    }
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return log_time() + " qwen3 serve: " + message;
}

}  // namespace qwen3::server
