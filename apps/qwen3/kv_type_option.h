// `--kv-type` of the commands that run the model on the CPU: the KV cache element type
// (model/kv_type.h holds the names: f16, q8_0, f32), passed on as the `kv_type` property.
#pragma once

#include <CLI/CLI.hpp>

#include <exception>
#include <string>

#include "model/kv_type.h"

namespace qwen3::cli {

inline constexpr const char* kKvTypeHelp =
    "KV cache element type: f16 (default), q8_0 (ggml's q8_0, llama.cpp -ctk/-ctv q8_0: "
    "about half the KV memory and half the bytes attention reads, logits close to f16) or f32";

// Adds --kv-type; a bad value is a parse error naming the valid ones (exit 2).
inline CLI::Option* add_kv_type_option(CLI::App& app, std::string& value) {
  return app.add_option("--kv-type", value, kKvTypeHelp)
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            try {
              parse_kv_type(s);
              return {};
            } catch (const std::exception& e) {
              return e.what();
            }
          },
          kv_type_names(), "kv_type"));
}

// The option's type; F16 when it was not given.
inline KvType kv_type_or_default(const std::string& value) {
  return value.empty() ? KvType::F16 : parse_kv_type(value);
}

}  // namespace qwen3::cli
