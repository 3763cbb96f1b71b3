// What a user types for a model that lives on the Hugging Face Hub, parsed: `hf://ORG/NAME`,
// `hf://ORG/NAME:QUANT` (llama.cpp's `-hf ORG/NAME:QUANT` spelling too) and the short
// names of the official Qwen3 models (`qwen3:8b`, `qwen3:0.6b-q8_0`), plus the rule that
// picks one GGUF file of a repository for a quant tag. Pure text, no network.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace qwen3::hub {

struct ModelRef {
  std::string repo;      // "ORG/NAME"
  std::string quant;     // "Q4_K_M", upper case; empty = the default choice
  std::string revision;  // branch, tag or commit; "main" unless given with @REV
};

// True for text that names a Hub model rather than a local path: `hf://...` or a short
// name such as `qwen3:8b`.
bool is_model_ref(const std::string& text);

// Parses `hf://ORG/NAME[:QUANT][@REV]`, `ORG/NAME[:QUANT][@REV]` (with allow_bare_repo,
// for `-hf`) or a short name. Throws std::invalid_argument naming what is wrong.
ModelRef parse_model_ref(const std::string& text, bool allow_bare_repo = false);

// The short names (`qwen3:8b` ...) and the repositories they stand for, for help texts.
struct ShortName {
  const char* name;
  const char* repo;
};
const std::vector<ShortName>& short_names();

// Picks the GGUF file of `files` (repository paths) for `quant`: a file whose name ends
// in `-QUANT.gguf` or `.QUANT.gguf` (case-insensitive); with no quant, Q4_K_M, then Q8_0,
// then the first GGUF in name order. Split GGUFs (`-00001-of-00003.gguf`) are refused.
// Throws std::runtime_error listing the quants the repository has when none matches.
std::string pick_gguf_file(const std::vector<std::string>& files, const std::string& quant,
                           const std::string& repo);

}  // namespace qwen3::hub
