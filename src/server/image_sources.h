// Where `qwen3 serve` may take image_url parts from besides data URLs: remote http(s)
// URLs (--allow-remote-images; the server then fetches them, an SSRF risk the operator
// opts into) and local files under the allowed directories (--allowed-image-dir).
#pragma once

#include <string>
#include <vector>

namespace qwen3::server {

struct ImageSources {
  bool allow_remote = false;              // fetch http:// and https:// URLs
  std::vector<std::string> allowed_dirs;  // file:// URLs and absolute paths inside these
};

}  // namespace qwen3::server
