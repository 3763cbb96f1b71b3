// A tiny random Qwen3-VL model as its two GGUF files (the text model and the mmproj vision
// tower), made by `qwen3 gen-model ... --mmproj` into a test's scratch folder and reused
// while both files are newer than the qwen3 binary (the text half carries the whole
// vocabulary, which takes seconds to write). Shared by the vision and the server-vision tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace qwen3::test {

struct VlPair {
  std::string text, mmproj;
};

// `qwen3 gen-model GEN_ARGS --mmproj MMPROJ -o TEXT`, unless both are already up to date.
inline VlPair gen_vl_pair(const std::filesystem::path& text, const std::filesystem::path& mmproj,
                          const std::string& gen_args) {
  namespace fs = std::filesystem;
  VlPair r{text.string(), mmproj.string()};
  const auto bin_time = fs::last_write_time(QWEN3_BIN);
  if (fs::exists(r.text) && fs::exists(r.mmproj) && fs::last_write_time(r.text) > bin_time &&
      fs::last_write_time(r.mmproj) > bin_time)
    return r;
  const std::string cmd = std::string(QWEN3_BIN) + " gen-model " + gen_args + " --mmproj " +
                          r.mmproj + " -o " + r.text + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("gen-model failed: " + cmd);
  return r;
}

}  // namespace qwen3::test
