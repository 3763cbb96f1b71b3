// check_framing: the request-head rules of http_framing.h.
#include "server/http_framing.h"

#include <cctype>

namespace qwen3::server {
namespace {

std::string trim_lower(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  std::string out = b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool takes_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

std::optional<FramingError> check_framing(const HttpRequest& head, BodyFraming& out) {
  out = BodyFraming{};
  if (head.target.empty() || head.target[0] != '/') {
    return FramingError{400, "malformed request target (expected a path starting with '/')"};
  }
  const std::size_t hosts = head.headers.count("Host");
  if (hosts > 1) return FramingError{400, "more than one Host header"};
  if (hosts == 0 && head.version >= 11) return FramingError{400, "missing Host header"};

  const std::size_t lengths = head.headers.count("Content-Length");
  const std::size_t codings = head.headers.count("Transfer-Encoding");
  if (lengths > 0 && codings > 0) {
    return FramingError{400, "Content-Length and Transfer-Encoding together are not allowed"};
  }
  if (lengths > 1) return FramingError{400, "more than one Content-Length header"};
  if (codings > 1) return FramingError{400, "more than one Transfer-Encoding header"};
  if (codings == 1) {
    if (head.version < 11) return FramingError{400, "Transfer-Encoding needs HTTP/1.1"};
    if (trim_lower(head.headers.get("Transfer-Encoding")) != "chunked") {
      return FramingError{501, "unsupported Transfer-Encoding (only 'chunked' is accepted)"};
    }
    out.kind = BodyFraming::Kind::kChunked;
    return std::nullopt;
  }
  if (lengths == 1) {
    std::string v = trim_lower(head.headers.get("Content-Length"));
    if (v.empty() || v.size() > 18) return FramingError{400, "malformed Content-Length"};
    std::uint64_t n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return FramingError{400, "malformed Content-Length"};
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out.kind = BodyFraming::Kind::kLength;
    out.length = n;
    return std::nullopt;
  }
  if (takes_body(head.method)) {
    return FramingError{
        411, "a " + head.method + " request needs a Content-Length (or chunked Transfer-Encoding)"};
  }
  return std::nullopt;
}

}  // namespace qwen3::server
