// libFuzzer target for model references and the GGUF file choice: the first line is a
// reference (parsed with and without bare ORG/NAME), the rest a repository's file list.
// Any input must end in a result or std::invalid_argument / std::runtime_error; a parsed
// reference must name ORG/NAME and never contain "..".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "hub/model_ref.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  std::istringstream lines(in);
  std::string first, line;
  std::getline(lines, first);
  std::vector<std::string> files;
  while (std::getline(lines, line)) files.push_back(line);
  for (bool bare : {false, true}) {
    try {
      const qwen3::hub::ModelRef r = qwen3::hub::parse_model_ref(first, bare);
      if (r.repo.find('/') == std::string::npos || r.repo.find("..") != std::string::npos ||
          r.revision.find("..") != std::string::npos)
        std::abort();
      try {
        const std::string f = qwen3::hub::pick_gguf_file(files, r.quant, r.repo);
        bool listed = false;
        for (const auto& x : files) listed = listed || x == f;
        if (!listed) std::abort();
      } catch (const std::runtime_error&) {
      }
    } catch (const std::invalid_argument&) {
    }
  }
  return 0;
}
