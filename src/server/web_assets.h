// The web chat page's files, embedded in the binary at build time from src/server/web/
// (cmake/embed_assets.cmake), so the server needs no files and no network.
#pragma once

#include <cstddef>

namespace qwen3::server {

struct WebAsset {
  const char* path;  // "/index.html", "/app.js", ...
  const unsigned char* data;
  size_t size;
};

extern const WebAsset kWebAssets[];  // terminated by {nullptr, nullptr, 0}
extern const size_t kWebAssetCount;

}  // namespace qwen3::server
