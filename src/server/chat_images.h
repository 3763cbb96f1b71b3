// Image parts of chat messages (OpenAI `{"type": "image_url", "image_url": {"url": ...}}`)
// for Qwen3-VL models: taken out of the messages' content arrays before the text layer
// reads them, decoded from data URLs (PNG, JPEG, WebP; base64) and checked (decoded once:
// not an image, truncated, past the limits = 400 naming the part). Remote URLs are fetched
// only with ImageSources::allow_remote, local files (file:// or an absolute path) read only
// inside ImageSources::allowed_dirs (symlinks resolved); else a 400 naming the flag. Each
// image keeps its place as a byte offset into the message's joined text (qwen3::ChatImage).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "qwen3/chat.h"
#include "server/image_sources.h"
#include "server/json_fields.h"

namespace qwen3::server {

namespace limits {
inline constexpr std::size_t kMaxImages = 16;            // per request
inline constexpr std::size_t kMaxImageBytes = 8u << 20;  // encoded, per image
inline constexpr long long kMaxImagePixels = 1LL << 24;  // 16.7 megapixels
inline constexpr int kMaxImageSide = 16384;              // pixels, either side
inline constexpr int kMaxImageFetchSeconds = 30;         // all remote images of a request
}  // namespace limits

// Removes the image parts from `messages` (a JSON array; other shapes are left for the
// text layer to reject) and returns each message's images (index = message index).
// Throws ApiError 400.
std::vector<std::vector<ChatImage>> take_image_parts(Json& messages,
                                                     const ImageSources& sources = {});

// Strict base64 (RFC 4648, padding optional, no whitespace); false on a bad character.
bool decode_base64(const std::string& in, std::size_t begin, std::string& out);

}  // namespace qwen3::server
