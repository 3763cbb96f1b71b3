// The browser-safety and auth rules as pure functions (src/server/http_access.h): Host
// names and the loopback allow-list, CORS origin matching, same-origin detection, the
// Bearer scheme in any case, the JSON media type.
#include <gtest/gtest.h>

#include "server/http_access.h"

namespace qwen3::server {
namespace {

TEST(HttpAccess, HostName) {
  EXPECT_EQ(host_name("LocalHost:8080"), "localhost");
  EXPECT_EQ(host_name("[::1]:80"), "::1");
  EXPECT_EQ(host_name("[::1]"), "::1");
  EXPECT_EQ(host_name("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(host_name("localhost."), "localhost");
  EXPECT_EQ(host_name("a:b"), "");
  EXPECT_EQ(host_name("::1"), "");  // a bare IPv6 address is not a Host value
  EXPECT_EQ(host_name("[::1"), "");
  EXPECT_EQ(host_name(""), "");
}

TEST(HttpAccess, LoopbackAndAllowedHosts) {
  for (const char* h : {"localhost", "localhost:1", "app.localhost", "127.0.0.1:8080",
                        "127.255.0.9", "[::1]:8080"}) {
    EXPECT_TRUE(host_allowed(h, {})) << h;
  }
  for (const char* h : {"", "evil.example", "localhost.evil.com", "128.0.0.1", "127.0.0.256",
                        "0.0.0.0", "[::2]", "10.0.0.1:80", "127.0.0.1.evil.com"}) {
    EXPECT_FALSE(host_allowed(h, {})) << h;
  }
  EXPECT_TRUE(host_allowed("Chat.Example:443", {"chat.example"}));
  EXPECT_TRUE(host_allowed("chat.example:8080", {"chat.example:8080"}));
  EXPECT_FALSE(host_allowed("chat.example:9090", {"chat.example:8080"}));
  EXPECT_TRUE(host_allowed("[fd00::5]:80", {"[fd00::5]"}));
  EXPECT_TRUE(host_allowed("anything.example", {"*"}));
}

TEST(HttpAccess, Origins) {
  EXPECT_FALSE(origin_allowed("http://a.example", {}));
  EXPECT_FALSE(origin_allowed("", {"*"}));
  EXPECT_TRUE(origin_allowed("http://a.example", {"*"}));
  EXPECT_TRUE(origin_allowed("HTTP://A.example", {"http://a.example/"}));
  EXPECT_FALSE(origin_allowed("http://a.example:81", {"http://a.example"}));
  EXPECT_FALSE(origin_allowed("http://a.example.evil", {"http://a.example"}));
  EXPECT_TRUE(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(same_origin("http://localhost", "localhost:80"));
  EXPECT_TRUE(same_origin("https://chat.example", "chat.example:443"));
  EXPECT_FALSE(same_origin("http://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(same_origin("null", "127.0.0.1:8080"));
}

TEST(HttpAccess, BearerAndSecret) {
  EXPECT_EQ(bearer_token("Bearer k"), "k");
  EXPECT_EQ(bearer_token("bearer k"), "k");
  EXPECT_EQ(bearer_token("BEARER   k  "), "k");
  EXPECT_FALSE(bearer_token("Basic k"));
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer "));
  EXPECT_FALSE(bearer_token("Bearerk"));
  EXPECT_TRUE(same_secret("abc", "abc"));
  EXPECT_FALSE(same_secret("abc", "abd"));
  EXPECT_FALSE(same_secret("abc", "abcd"));
  EXPECT_FALSE(same_secret("", "a"));
}

TEST(HttpAccess, JsonMediaType) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON; charset=utf-8"));
  EXPECT_FALSE(is_json_media_type("text/plain"));
  EXPECT_FALSE(is_json_media_type("application/jsonx"));
  EXPECT_FALSE(is_json_media_type(""));
}

}  // namespace
}  // namespace qwen3::server
