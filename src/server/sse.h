// Server-sent events framing as OpenAI streams use it: one `data: <json>` line per event,
// a blank line after each, and `data: [DONE]` at the end.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace qwen3::server {

inline std::string sse_event(const nlohmann::ordered_json& payload) {
  // dump() never emits a raw newline (they are escaped), so one data line is enough.
  return "data: " + payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

inline std::string sse_done() {
  return "data: [DONE]\n\n";
}

}  // namespace qwen3::server
