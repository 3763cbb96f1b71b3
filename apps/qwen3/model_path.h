// Checks a local model path before a command loads it, so a wrong -m gets a message
// worded for the user ("... does not exist", "... is not a GGUF file and not a Hugging
// Face model folder") instead of the loader's first failing detail ("config.json:
// cannot open"). main() applies it to -m of the model commands.
#pragma once

#include <string>
#include <vector>

namespace qwen3::cli {

// What the path may be: a model (GGUF file, or a folder with config.json, or an
// OpenVINO export), or a Hugging Face folder only (convert's input).
enum class ModelUse { kModel, kHfFolder };

// Throws std::invalid_argument with the user-facing message if `path` cannot be one.
void check_model_path(const std::string& path, ModelUse use);

// main(): the commands whose -m is a model; for those, checks the -m value in `args`
// (argv without the program name, model references already resolved). Skips --help and
// the test-only --backend (then -m is a tokenizer).
void check_model_args(const std::vector<std::string>& args);

}  // namespace qwen3::cli
