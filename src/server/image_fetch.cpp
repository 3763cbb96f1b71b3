// Fetching one remote image: image_fetch.h. cpp-httplib (HTTPS via OpenSSL), as the Hub
// client does; redirects are followed here so that each hop is checked.
#include "server/image_fetch.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace qwen3::server {
namespace {

constexpr int kMaxRedirects = 3;
constexpr int kDeadlineSeconds = 10;

struct Url {
  std::string origin;  // scheme://host[:port]
  std::string target;  // /path?query
};

bool is_http(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

Url split_url(const std::string& url) {
  const std::size_t scheme = url.find("://");
  const std::size_t slash = url.find('/', scheme + 3);
  Url u;
  u.origin = slash == std::string::npos ? url : url.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : url.substr(slash);
  const std::size_t hash = u.target.find('#');
  if (hash != std::string::npos) u.target.resize(hash);
  if (u.origin.size() <= scheme + 3) throw std::runtime_error("has no host");
  return u;
}

}  // namespace

std::string fetch_remote_image(const std::string& url_in, std::size_t max_bytes,
                               std::chrono::steady_clock::time_point request_deadline) {
  using Clock = std::chrono::steady_clock;
  const auto deadline =
      std::min(request_deadline, Clock::now() + std::chrono::seconds(kDeadlineSeconds));
  std::string url = url_in;
  for (int hop = 0;; ++hop) {
    if (!is_http(url)) throw std::runtime_error("redirects to '" + url + "', not http(s)");
    const Url u = split_url(url);
    httplib::Client cli(u.origin);
    cli.set_follow_location(false);
    const auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw std::runtime_error("timed out (the request's image fetch time is up)");
    cli.set_connection_timeout(left / 1000000, left % 1000000);
    cli.set_read_timeout(left / 1000000, left % 1000000);
    cli.set_write_timeout(left / 1000000, left % 1000000);
    int status = 0;
    std::string location, type, body, failure;
    auto res = cli.Get(
        u.target, httplib::Headers{{"Accept", "image/*"}},
        [&](const httplib::Response& r) {
          status = r.status;
          location = r.get_header_value("Location");
          type = r.get_header_value("Content-Type");
          if (status != 200) return false;
          if (!type.empty() && type.rfind("image/", 0) != 0 &&
              type.rfind("application/octet-stream", 0) != 0) {
            failure = "was served as '" + type + "', not an image";
            return false;
          }
          const std::string length = r.get_header_value("Content-Length");
          if (!length.empty() &&
              (length.size() > 18 || std::strtoull(length.c_str(), nullptr, 10) > max_bytes)) {
            failure = "is larger than the limit of " + std::to_string(max_bytes >> 20) + " MiB";
            return false;
          }
          return true;
        },
        [&](const char* data, std::size_t n) {
          if (body.size() + n > max_bytes) {
            failure = "is larger than the limit of " + std::to_string(max_bytes >> 20) + " MiB";
            return false;
          }
          if (Clock::now() > deadline) {
            failure = "timed out (10 s an image, 30 s a request)";
            return false;
          }
          body.append(data, n);
          return true;
        });
    if (!failure.empty()) throw std::runtime_error(failure);
    if (status >= 300 && status < 400 && !location.empty()) {
      if (hop >= kMaxRedirects)
        throw std::runtime_error("redirects more than " + std::to_string(kMaxRedirects) + " times");
      if (location.rfind("//", 0) == 0)  // scheme-relative
        url = u.origin.substr(0, u.origin.find("//")) + location;
      else
        url = location[0] == '/' ? u.origin + location : location;
      continue;
    }
    if (status != 0 && status != 200)
      throw std::runtime_error("answered HTTP " + std::to_string(status));
    if (!res) {
      const httplib::Error e = res.error();
      if (e == httplib::Error::ConnectionTimeout || e == httplib::Error::Read)
        throw std::runtime_error("could not be fetched: timed out or cut (" +
                                 httplib::to_string(e) + ")");
      throw std::runtime_error("is unreachable (" + httplib::to_string(e) + ")");
    }
    if (Clock::now() > deadline)
      throw std::runtime_error("timed out (10 s an image, 30 s a request)");
    return body;
  }
}

}  // namespace qwen3::server
