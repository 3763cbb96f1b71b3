// The server's own HTTP request and response types, independent of the transport: what
// the route handlers read (method, path, query, headers, body) and fill in (status,
// headers, body, or a streaming content provider). Names follow cpp-httplib's, which the
// routes were first written against, so the handlers read the same.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace qwen3::server {

// Header fields in arrival order; names compare case-insensitively.
class HttpHeaders {
 public:
  void add(std::string name, std::string value);
  void set(const std::string& name, std::string value);  // replaces every field `name`
  bool has(const std::string& name) const;
  std::size_t count(const std::string& name) const;
  // The first field `name`, or "" if absent.
  std::string get(const std::string& name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

bool iequals(const std::string& a, const std::string& b);

struct HttpRequest {
  std::string method;                                       // "GET", "POST", ...
  std::string target;                                       // as sent: path and query
  std::string path;                                         // the target without its query
  std::vector<std::pair<std::string, std::string>> params;  // query, percent-decoded
  HttpHeaders headers;
  std::string body;
  std::string remote_addr;
  int version = 11;  // 10 = HTTP/1.0, 11 = HTTP/1.1

  bool has_header(const std::string& name) const { return headers.has(name); }
  std::string get_header_value(const std::string& name) const { return headers.get(name); }
  bool has_param(const std::string& name) const;
  std::string get_param_value(const std::string& name) const;
};

// Where a streaming provider writes. write() blocks until the bytes went out (back
// pressure) and returns false once the client is gone; done() ends the stream.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual bool write(const char* data, std::size_t size) = 0;
  virtual void done() = 0;
  bool write(const std::string& s) { return write(s.data(), s.size()); }
};

// Called again and again on a worker thread until it calls sink.done() or returns false
// (then the stream ends without its terminator: the client sees a cut response).
using ContentProvider = std::function<bool(StreamSink& sink)>;
// Called once when the stream ends: true if complete, false if cut (client gone, error).
// May run on the network thread: it must not block.
using StreamDone = std::function<void(bool success)>;

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  ContentProvider provider;  // set: the body is streamed (chunked) instead of `body`
  StreamDone provider_done;

  void set_header(const std::string& name, std::string value) {
    headers.set(name, std::move(value));
  }
  std::string get_header_value(const std::string& name) const { return headers.get(name); }
  void set_content(std::string content, const std::string& content_type);
  void set_content(const char* data, std::size_t size, const std::string& content_type);
  void set_chunked_content_provider(const std::string& content_type, ContentProvider p,
                                    StreamDone done = nullptr);
};

// "OK", "Not Found", ... for a status code.
const char* status_reason(int status);

// Splits "a=1&b=x%20y" into decoded pairs ('+' is a space).
std::vector<std::pair<std::string, std::string>> parse_query(const std::string& query);

}  // namespace qwen3::server
