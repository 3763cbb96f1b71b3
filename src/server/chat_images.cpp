// Image parts of chat messages: chat_images.h.
#include "server/chat_images.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "server/api_error.h"
#include "server/image_fetch.h"
#include "vision/image_decode.h"

namespace qwen3::server {
namespace {

int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // standard and URL-safe alphabets
  if (c == '/' || c == '_') return 63;
  return -1;
}

bool starts_with_ci(const std::string& s, const char* prefix) {
  std::size_t i = 0;
  for (; prefix[i]; ++i) {
    if (i >= s.size()) return false;
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

ApiError bad_image(const std::string& where, const std::string& what) {
  return invalid_request("'" + where + "' " + what, "messages", "invalid_image");
}

// Percent-decoding of a file:// URL's path.
std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A local file, read only if its canonical path (symlinks resolved) lies inside one of
// the allowed directories.
std::string local_image(const std::string& path, const ImageSources& src,
                        const std::string& where) {
  namespace fs = std::filesystem;
  if (src.allowed_dirs.empty())
    throw bad_image(where,
                    "is a local file: the server reads local images only inside the "
                    "directories given with 'qwen3 serve --allowed-image-dir DIR'");
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(fs::path(path), ec);
  bool inside = false;
  for (const std::string& d : src.allowed_dirs) {
    std::error_code ec2;
    const fs::path dir = fs::weakly_canonical(fs::path(d), ec2);
    if (ec || ec2 || dir.empty()) continue;
    auto r = std::mismatch(dir.begin(), dir.end(), real.begin(), real.end());
    // A trailing "" element (dir ending in '/') matches anything.
    if (r.first == dir.end() || (std::next(r.first) == dir.end() && r.first->empty()))
      inside = true;
  }
  if (!inside)
    throw bad_image(where,
                    "is a local file outside the directories allowed with "
                    "'qwen3 serve --allowed-image-dir DIR'");
  if (!fs::is_regular_file(real, ec)) throw bad_image(where, "is not a readable file");
  const auto size = fs::file_size(real, ec);
  if (ec) throw bad_image(where, "is not a readable file");
  if (size > limits::kMaxImageBytes)
    throw bad_image(where, "is larger than the limit of " +
                               std::to_string(limits::kMaxImageBytes >> 20) + " MiB");
  std::ifstream in(real, std::ios::binary);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (!in || !in.read(&bytes[0], static_cast<std::streamsize>(size)))
    throw bad_image(where, "is not a readable file");
  if (bytes.empty()) throw bad_image(where, "holds no image data");
  return bytes;
}

// The image bytes of one part's URL.
std::string image_bytes(const std::string& url, const std::string& where, const ImageSources& src,
                        std::chrono::steady_clock::time_point fetch_deadline) {
  if (starts_with_ci(url, "http://") || starts_with_ci(url, "https://")) {
    if (!src.allow_remote)
      throw bad_image(where,
                      "is a remote URL the server does not fetch unless started with "
                      "'qwen3 serve --allow-remote-images'; or send the image itself as a "
                      "data URL (data:image/png;base64,...)");
    try {
      std::string bytes = fetch_remote_image(url, limits::kMaxImageBytes, fetch_deadline);
      if (bytes.empty()) throw std::runtime_error("holds no image data");
      return bytes;
    } catch (const std::runtime_error& e) {
      throw bad_image(
          where, "(" + (url.size() > 200 ? url.substr(0, 200) + "..." : url) + ") " + e.what());
    }
  }
  if (starts_with_ci(url, "file://")) {
    std::string rest = url.substr(7);
    if (starts_with_ci(rest, "localhost/")) rest = rest.substr(9);
    if (rest.empty() || rest[0] != '/')
      throw bad_image(where, "is a file URL without an absolute path (file:///dir/image.png)");
    return local_image(percent_decode(rest), src, where);
  }
  if (!url.empty() && url[0] == '/') return local_image(url, src, where);
  if (url.find("://") != std::string::npos)
    throw bad_image(where,
                    "is a URL the server does not fetch: send the image itself as a data "
                    "URL (data:image/png;base64,...)");
  if (!starts_with_ci(url, "data:"))
    throw bad_image(where, "must be a data URL (data:image/png;base64,...)");
  const std::size_t comma = url.find(',');
  if (comma == std::string::npos) throw bad_image(where, "is a data URL without a ','");
  const std::string meta = url.substr(5, comma - 5);
  const std::size_t semi = meta.rfind(';');
  if (semi == std::string::npos || meta.substr(semi + 1) != "base64")
    throw bad_image(where, "must be a base64 data URL (data:image/png;base64,...)");
  const std::string mime = meta.substr(0, semi);
  if (!mime.empty() && !starts_with_ci(mime, "image/") && mime != "application/octet-stream")
    throw bad_image(where, "has media type '" + mime + "', not an image");
  if ((url.size() - comma - 1) / 4 * 3 > limits::kMaxImageBytes)
    throw bad_image(where, "holds more than " + std::to_string(limits::kMaxImageBytes >> 20) +
                               " MiB of image data");
  std::string bytes;
  if (!decode_base64(url, comma + 1, bytes)) throw bad_image(where, "is not valid base64");
  if (bytes.empty()) throw bad_image(where, "holds no image data");
  return bytes;
}

void check_image(const std::string& bytes, const std::string& where) {
  vision::ImageLimits lim;
  lim.max_pixels = limits::kMaxImagePixels;
  lim.max_side = limits::kMaxImageSide;
  lim.max_file_bytes = limits::kMaxImageBytes;
  try {
    vision::decode_image(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), lim);
  } catch (const std::exception& e) {
    throw bad_image(where, std::string("is not a usable image: ") + e.what());
  }
}

}  // namespace

bool decode_base64(const std::string& in, std::size_t begin, std::string& out) {
  out.clear();
  std::size_t end = in.size();
  while (end > begin && in[end - 1] == '=') --end;
  if (in.size() - end > 2) return false;
  out.reserve((end - begin) / 4 * 3 + 3);
  unsigned acc = 0;
  int bits = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const int v = b64_value(static_cast<unsigned char>(in[i]));
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return bits < 6;  // a lone trailing character holds no whole byte
}

std::vector<std::vector<ChatImage>> take_image_parts(Json& messages, const ImageSources& sources) {
  std::vector<std::vector<ChatImage>> out(messages.is_array() ? messages.size() : 0);
  std::size_t count = 0;
  // The remote images of one request share this budget (each also has its own 10 s).
  const auto fetch_deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(limits::kMaxImageFetchSeconds);
  for (std::size_t m = 0; m < out.size(); ++m) {
    Json& msg = messages[m];
    if (!msg.is_object() || !msg.contains("content") || !msg["content"].is_array()) continue;
    Json& content = msg["content"];
    Json kept = Json::array();
    std::size_t text_bytes = 0;
    for (std::size_t i = 0; i < content.size(); ++i) {
      const Json& part = content[i];
      const std::string where =
          "messages[" + std::to_string(m) + "].content[" + std::to_string(i) + "]";
      const bool image = part.is_object() && part.contains("type") && part["type"] == "image_url";
      if (!image) {
        if (part.is_object() && part.contains("text") && part["text"].is_string())
          text_bytes += part["text"].get_ref<const std::string&>().size();
        kept.push_back(part);
        continue;
      }
      const std::string role =
          msg.contains("role") && msg["role"].is_string() ? msg["role"].get<std::string>() : "";
      if (role != "user")
        throw bad_image(where, "is an image in a '" + role +
                                   "' message: only user messages "
                                   "hold images");
      if (++count > limits::kMaxImages)
        throw invalid_request(
            "the request holds more than " + std::to_string(limits::kMaxImages) + " images",
            "messages", "limit_exceeded");
      const Json* iu = part.contains("image_url") ? &part["image_url"] : nullptr;
      const Json* url = nullptr;
      if (iu && iu->is_string())
        url = iu;
      else if (iu && iu->is_object() && iu->contains("url"))
        url = &(*iu)["url"];
      if (!url || !url->is_string())
        throw bad_image(where + ".image_url.url", "must be a string (a data URL)");
      ChatImage im;
      im.bytes =
          image_bytes(url->get<std::string>(), where + ".image_url.url", sources, fetch_deadline);
      check_image(im.bytes, where + ".image_url.url");
      im.offset = text_bytes;
      out[m].push_back(std::move(im));
    }
    content = std::move(kept);
  }
  return out;
}

}  // namespace qwen3::server
