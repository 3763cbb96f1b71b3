// Files the tests write and read back: a scratch folder of the build tree per test (made on
// first use, kept so a failure can be looked at), and a whole file read as bytes or as raw
// float32 (the logits and embeddings llama.cpp's reference tools and `qwen3` write). One
// copy for every test that needs them.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace qwen3::test {

// <build>/NAME, created when missing.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const std::filesystem::path d = std::filesystem::path(QWEN3_BUILD_DIR) / name;
  std::filesystem::create_directories(d);
  return d;
}

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// The file as native float32 values (a trailing partial value is dropped).
inline std::vector<float> read_f32(const std::filesystem::path& p) {
  const std::vector<uint8_t> b = read_bytes(p);
  std::vector<float> v(b.size() / sizeof(float));
  std::memcpy(v.data(), b.data(), v.size() * sizeof(float));
  return v;
}

}  // namespace qwen3::test
