// Fetching one remote image for an image_url part (only with --allow-remote-images):
// http(s) GET with a 10 s deadline, at most 3 redirects (each hop checked again), only a
// 200 reply, the body capped at limits::kMaxImageBytes (stopped while reading).
#pragma once

#include <cstddef>
#include <string>

namespace qwen3::server {

// The body of `url`; throws std::runtime_error with the reason (unreachable, timed out,
// HTTP status, too large, not an image media type).
std::string fetch_remote_image(const std::string& url, std::size_t max_bytes);

}  // namespace qwen3::server
