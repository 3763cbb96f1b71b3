// Who may use the server, as pure functions of request headers: the Host allow-list
// (loopback names and addresses, plus --allowed-host) that stops DNS rebinding, the
// CORS origin list (--cors-origin), same-origin detection for the embedded page, the
// Bearer token (scheme case-insensitive) and the JSON media type check.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace qwen3::server {

// The host name of a Host header value, lower case, without port and IPv6 brackets:
// "LocalHost:8080" -> "localhost", "[::1]:80" -> "::1". Empty if malformed.
std::string host_name(const std::string& host_header);
// localhost (and *.localhost), 127.0.0.0/8, ::1.
bool is_loopback_name(const std::string& name);
// A loopback name, or one of `allowed` (compared as host names, or whole "host:port").
bool host_allowed(const std::string& host_header, const std::vector<std::string>& allowed);

// `origin` is listed in `allowed` (exact, case-insensitive, without a trailing '/'), or
// `allowed` holds "*".
bool origin_allowed(const std::string& origin, const std::vector<std::string>& allowed);
// The Origin ("http://host:port") names the same authority as the Host header.
bool same_origin(const std::string& origin, const std::string& host_header);

// The token of "Bearer TOKEN" (any case of "bearer", spaces around), or nothing.
std::optional<std::string> bearer_token(const std::string& authorization);
// Compares without an early exit, so response time does not leak the key.
bool same_secret(const std::string& a, const std::string& b);

// "application/json", with parameters (charset) and in any case.
bool is_json_media_type(const std::string& content_type);

}  // namespace qwen3::server
