// Host, Origin, Authorization and Content-Type checks (see http_access.h).
#include "server/http_access.h"

#include <algorithm>
#include <cctype>

#include "server/http_message.h"

namespace qwen3::server {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// "a.b.c.d" with each part 0..255.
bool is_ipv4(const std::string& s, int* first) {
  int parts = 0, value = -1;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (value < 0 || value > 255) return false;
      if (parts == 0 && first) *first = value;
      ++parts;
      value = -1;
    } else if (s[i] >= '0' && s[i] <= '9') {
      value = (value < 0 ? 0 : value * 10) + (s[i] - '0');
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  return parts == 4;
}

std::string without_trailing_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::string host_name(const std::string& host_header) {
  std::string h = lower(trim(host_header));
  if (h.empty()) return {};
  if (h[0] == '[') {
    std::size_t close = h.find(']');
    if (close == std::string::npos) return {};
    std::string rest = h.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return {};
    return h.substr(1, close - 1);
  }
  std::size_t colon = h.find(':');
  if (colon != std::string::npos) {
    if (h.find(':', colon + 1) != std::string::npos) return {};  // bare IPv6 is not a Host
    std::string port = h.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return {};
    }
    h = h.substr(0, colon);
  }
  if (!h.empty() && h.back() == '.') h.pop_back();  // "localhost." is localhost
  return h;
}

bool is_loopback_name(const std::string& name) {
  if (name == "localhost" || ends_with(name, ".localhost")) return true;
  if (name == "::1" || name == "0:0:0:0:0:0:0:1") return true;
  int first = -1;
  return is_ipv4(name, &first) && first == 127;
}

bool host_allowed(const std::string& host_header, const std::vector<std::string>& allowed) {
  const std::string name = host_name(host_header);
  if (name.empty()) return false;
  if (is_loopback_name(name)) return true;
  const std::string whole = lower(trim(host_header));
  for (const auto& a : allowed) {
    std::string l = lower(trim(a));
    if (l == "*" || l == whole || (host_name(l) == name && l.find(':') == std::string::npos)) {
      return true;
    }
    if (!l.empty() && l[0] == '[' && l.back() == ']' && host_name(l) == name) return true;
  }
  return false;
}

bool origin_allowed(const std::string& origin, const std::vector<std::string>& allowed) {
  if (origin.empty()) return false;
  const std::string o = without_trailing_slash(lower(trim(origin)));
  for (const auto& a : allowed) {
    const std::string l = without_trailing_slash(lower(trim(a)));
    if (l == "*" || l == o) return true;
  }
  return false;
}

bool same_origin(const std::string& origin, const std::string& host_header) {
  const std::string o = without_trailing_slash(lower(trim(origin)));
  std::size_t sep = o.find("://");
  if (sep == std::string::npos) return false;
  std::string scheme = o.substr(0, sep), authority = o.substr(sep + 3);
  std::string host = lower(trim(host_header));
  if (authority == host) return true;
  // Default ports may be left out on either side.
  const std::string port = scheme == "https" ? ":443" : ":80";
  return authority + port == host || authority == host + port;
}

std::optional<std::string> bearer_token(const std::string& authorization) {
  const std::string h = trim(authorization);
  std::size_t space = h.find_first_of(" \t");
  if (space == std::string::npos || !iequals(h.substr(0, space), "bearer")) return std::nullopt;
  std::string token = trim(h.substr(space + 1));
  if (token.empty()) return std::nullopt;
  return token;
}

bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

bool is_json_media_type(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  return lower(trim(t)) == "application/json";
}

}  // namespace qwen3::server
