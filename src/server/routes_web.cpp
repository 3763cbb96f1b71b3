// GET / and the web chat page's other files, served from the assets compiled into the
// binary (server/web_assets.h). The page needs no key: it asks for one when the API does.
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
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

}  // namespace

void add_web_routes(ServerState& st) {
  for (std::size_t i = 0; i < kWebAssetCount; ++i) {
    const WebAsset& a = kWebAssets[i];
    std::string path = a.path;
    auto serve = endpoint(st, "web", true, [&a, path](const auto&, auto& res) {
      res.set_content(reinterpret_cast<const char*>(a.data), a.size, mime_type(path));
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Content-Type-Options", "nosniff");
    });
    st.http.Get(path, serve);
    if (path == "/index.html") st.http.Get("/", serve);
  }
}

}  // namespace qwen3::server
