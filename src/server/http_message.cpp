// HttpHeaders, HttpRequest and HttpResponse helpers, status reasons and query decoding.
#include "server/http_message.h"

#include <algorithm>
#include <cctype>

#include "server/http_status.h"

namespace qwen3::server {

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void HttpHeaders::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void HttpHeaders::set(const std::string& name, std::string value) {
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [&](const auto& f) { return iequals(f.first, name); }),
                fields_.end());
  fields_.emplace_back(name, std::move(value));
}

bool HttpHeaders::has(const std::string& name) const {
  return count(name) > 0;
}

std::size_t HttpHeaders::count(const std::string& name) const {
  return static_cast<std::size_t>(std::count_if(
      fields_.begin(), fields_.end(), [&](const auto& f) { return iequals(f.first, name); }));
}

std::string HttpHeaders::get(const std::string& name) const {
  for (const auto& f : fields_) {
    if (iequals(f.first, name)) return f.second;
  }
  return {};
}

bool HttpRequest::has_param(const std::string& name) const {
  return std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
}

std::string HttpRequest::get_param_value(const std::string& name) const {
  for (const auto& p : params) {
    if (p.first == name) return p.second;
  }
  return {};
}

void HttpResponse::set_content(std::string content, const std::string& content_type) {
  body = std::move(content);
  set_header("Content-Type", content_type);
}

void HttpResponse::set_content(const char* data, std::size_t size,
                               const std::string& content_type) {
  set_content(std::string(data, size), content_type);
}

void HttpResponse::set_chunked_content_provider(const std::string& content_type, ContentProvider p,
                                                StreamDone done) {
  set_header("Content-Type", content_type);
  provider = std::move(p);
  provider_done = std::move(done);
}

const char* status_reason(int status) {
  if (const HttpStatusInfo* info = find_http_status(status)) return info->reason;
  return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Server Error";
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_query(const std::string& query) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    std::string part = query.substr(pos, amp - pos);
    if (!part.empty()) {
      std::size_t eq = part.find('=');
      if (eq == std::string::npos) {
        out.emplace_back(url_decode(part), "");
      } else {
        out.emplace_back(url_decode(part.substr(0, eq)), url_decode(part.substr(eq + 1)));
      }
    }
    pos = amp + 1;
  }
  return out;
}

}  // namespace qwen3::server
