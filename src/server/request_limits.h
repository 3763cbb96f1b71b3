// What one request may ask of the server, in one place (documented in docs/server.md,
// "Request limits"). The JSON shape limits are checked while the body is parsed; the
// others where the field is read. Every violation is a 400 whose message names the limit.
#pragma once

#include <cstddef>

#include "text/json_limits.h"

namespace qwen3::server::limits {

// Images (a server with --mmproj): a data URL string may hold the base64 of an image up to
// the image limit (8 MiB encoded, server/chat_images.h: 11.2 MB of base64), with room to
// spare so a larger image gets chat_images' own message; such a server takes bodies up to
// 32 MiB (ServerOptions::max_body_bytes, if smaller, is raised to it).
inline constexpr std::size_t kMaxDataUrlBytes = 16u << 20;
inline constexpr std::size_t kMaxVisionBodyBytes = 32u << 20;

// Request bodies (any endpoint): nesting depth 64, strings 1 MiB (a data URL string 16 MiB),
// arrays 131,072 items (a token-id prompt of the longest context), objects 4,096 members,
// 1,048,576 values.
inline constexpr text::JsonLimits kJson = [] {
  text::JsonLimits l;
  l.max_data_url_bytes = kMaxDataUrlBytes;
  return l;
}();

inline constexpr std::size_t kMaxMessages = 4096;   // chat "messages"
inline constexpr std::size_t kMaxTools = 512;       // chat "tools"
inline constexpr std::size_t kMaxLogitBias = 1024;  // "logit_bias" entries

// /tokenize: "content" up to 1 MiB; "with_pieces" answers at most 131,072 tokens (the
// pieces cost ~30 bytes each in the reply). /detokenize: at most 131,072 ids.
inline constexpr std::size_t kMaxTokenizeBytes = 1 << 20;
inline constexpr std::size_t kMaxPieces = 131072;
inline constexpr std::size_t kMaxDetokenizeIds = 131072;

}  // namespace qwen3::server::limits
