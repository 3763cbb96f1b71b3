// Fetching one remote image for an image_url part (only with --allow-remote-images):
// http(s) GET with a 10 s deadline (30 s for all of a request's images), at most 3 redirects (each
// hop checked again), only a 200 reply, the body capped at limits::kMaxImageBytes (stopped while
// reading).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace qwen3::server {

// The body of `url`, fetched within 10 s and before `request_deadline` (a request's images
// share one budget); throws std::runtime_error with the reason (unreachable, timed out,
// HTTP status, too large, not an image media type).
std::string fetch_remote_image(const std::string& url, std::size_t max_bytes,
                               std::chrono::steady_clock::time_point request_deadline);

}  // namespace qwen3::server
