// What: the whole content of a file as a string of bytes, or nullopt when it cannot be
// opened; each caller words its own error.
// Why: the open / rdbuf / str() sequence was copied into a dozen readers across the layers.
// Header-only and standard-library only, so every layer may include it.
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace qwen3 {

inline std::optional<std::string> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace qwen3
