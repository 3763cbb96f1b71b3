// The request-head framing rules (src/server/http_framing.h) without a socket: what is
// refused (and with which status) before a body is read, and what framing is accepted.
#include <gtest/gtest.h>

#include "server/http_framing.h"

namespace qwen3::server {
namespace {

HttpRequest head(const std::string& method, std::vector<std::pair<std::string, std::string>> h,
                 int version = 11) {
  HttpRequest r;
  r.method = method;
  r.target = "/v1/chat/completions";
  r.path = r.target;
  r.version = version;
  r.headers.add("Host", "127.0.0.1");
  for (auto& f : h) r.headers.add(f.first, f.second);
  return r;
}

int status_of(const HttpRequest& r) {
  BodyFraming f;
  auto err = check_framing(r, f);
  return err ? err->status : 0;
}

TEST(HttpFraming, Accepted) {
  BodyFraming f;
  EXPECT_FALSE(check_framing(head("POST", {{"Content-Length", "12"}}), f));
  EXPECT_EQ(f.kind, BodyFraming::Kind::kLength);
  EXPECT_EQ(f.length, 12u);
  EXPECT_FALSE(check_framing(head("POST", {{"Transfer-Encoding", " Chunked "}}), f));
  EXPECT_EQ(f.kind, BodyFraming::Kind::kChunked);
  EXPECT_FALSE(check_framing(head("GET", {}), f));
  EXPECT_FALSE(f.has_body());
  EXPECT_FALSE(check_framing(head("POST", {{"Content-Length", "0"}}), f));
  EXPECT_FALSE(f.has_body());
}

TEST(HttpFraming, Refused) {
  EXPECT_EQ(status_of(head("POST", {{"Content-Length", "3"}, {"Transfer-Encoding", "chunked"}})),
            400);
  EXPECT_EQ(status_of(head("POST", {{"Content-Length", "3"}, {"Content-Length", "3"}})), 400);
  EXPECT_EQ(status_of(head("POST", {{"Content-Length", "3, 3"}})), 400);
  EXPECT_EQ(status_of(head("POST", {{"Content-Length", "-1"}})), 400);
  EXPECT_EQ(status_of(head("POST", {{"Content-Length", "99999999999999999999"}})), 400);
  EXPECT_EQ(status_of(head("POST", {{"Transfer-Encoding", "gzip, chunked"}})), 501);
  EXPECT_EQ(
      status_of(head("POST", {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}})),
      400);
  EXPECT_EQ(status_of(head("POST", {{"Transfer-Encoding", "chunked"}}, 10)), 400);
  EXPECT_EQ(status_of(head("POST", {})), 411);
  EXPECT_EQ(status_of(head("PUT", {})), 411);
  HttpRequest no_host = head("GET", {});
  no_host.headers = HttpHeaders{};
  EXPECT_EQ(status_of(no_host), 400);
  EXPECT_EQ(status_of(head("GET", {{"Host", "b"}})), 400);  // two Host fields
  HttpRequest absolute = head("GET", {});
  absolute.target = "http://evil/";
  EXPECT_EQ(status_of(absolute), 400);
}

}  // namespace
}  // namespace qwen3::server
