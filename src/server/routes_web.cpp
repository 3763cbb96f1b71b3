// GET / and the web chat page's other files, served from the assets compiled into the
// binary (server/web_assets.h). The page needs no key: it asks for one when the API does.
// Each file has an ETag (a hash of its bytes), so a reload revalidates with a 304 instead
// of fetching the page, KaTeX and its fonts again.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "server/server_state.h"
#include "server/web_assets.h"

namespace qwen3::server {
namespace {

const char* mime_type(const std::string& path) {
  auto ends = [&](const char* ext) {
    std::size_t n = std::strlen(ext);
    return path.size() >= n && path.compare(path.size() - n, n, ext) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".woff2")) return "font/woff2";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

// FNV-1a, 64 bits: enough to tell two versions of a file apart.
std::string etag_of(const unsigned char* data, std::size_t size) {
  std::uint64_t h = 14695981039346656037ull;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

void add_web_routes(ServerState& st) {
  for (std::size_t i = 0; i < kWebAssetCount; ++i) {
    const WebAsset& a = kWebAssets[i];
    std::string path = a.path;
    std::string etag = etag_of(a.data, a.size);
    auto serve = endpoint(st, "web", true, [&a, path, etag](const auto& req, auto& res) {
      res.set_header("Cache-Control", "no-cache");
      res.set_header("ETag", etag);
      if (req.get_header_value("If-None-Match") == etag) {
        res.status = 304;
        return;
      }
      res.set_content(reinterpret_cast<const char*>(a.data), a.size, mime_type(path));
      res.set_header("X-Content-Type-Options", "nosniff");
    });
    st.http.Get(path, serve);
    if (path == "/index.html") st.http.Get("/", serve);
  }
}

}  // namespace qwen3::server
