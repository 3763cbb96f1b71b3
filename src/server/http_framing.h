// Strict checks of a request head before its body is read, against request smuggling
// and stuck connections: one Host, at most one Content-Length, never Content-Length
// together with Transfer-Encoding, only `chunked` as a transfer coding, a length for
// every POST, an origin-form target. A failure ends the request and closes the
// connection (the rest of the bytes cannot be trusted to frame a next request).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/http_message.h"

namespace qwen3::server {

struct BodyFraming {
  enum class Kind { kNone, kLength, kChunked };
  Kind kind = Kind::kNone;
  std::uint64_t length = 0;  // kLength
  bool has_body() const { return kind == Kind::kChunked || (kind == Kind::kLength && length > 0); }
};

struct FramingError {
  int status;  // 400, 411 or 501
  std::string message;
};

// The body's framing, or the error to answer with (then close).
std::optional<FramingError> check_framing(const HttpRequest& head, BodyFraming& out);

}  // namespace qwen3::server
