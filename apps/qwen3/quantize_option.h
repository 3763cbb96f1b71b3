// `--quantize` of the commands taking -m: load-time quantization of a Hugging Face folder.
#pragma once

#include <CLI/CLI.hpp>

#include <exception>
#include <string>

#include "model/hf_model_loader.h"

namespace qwen3::cli {

inline constexpr const char* kQuantizeHelp =
    "Hugging Face folders: quantize the matrices while loading: q8_0, q4_0, q4_k (llama.cpp's "
    "Q4_K_M mix) or none (default: keep the checkpoint's type). A .gguf keeps its stored "
    "types; any value but none is an error there (convert the folder instead)";

// Adds --quantize; a bad value is a parse error (one line on stderr, exit 2).
inline CLI::Option* add_quantize_option(CLI::App& app, std::string& value) {
  return app.add_option("--quantize", value, kQuantizeHelp)
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            try {
              hf::parse_load_quantize(s);
              return {};
            } catch (const std::exception&) {
              return "must be q4_0, q4_k, q8_0 or none (got '" + s + "')";
            }
          },
          "q4_0|q4_k|q8_0|none", "quantize"));
}

}  // namespace qwen3::cli
