// The --lora option every command that runs a model shares (run, chat, serve, bench,
// logits): a PEFT LoRA folder or a llama.cpp adapter GGUF, optionally :SCALE, repeatable.
// One header so each command only calls add_lora_option and then apply_lora_option
// (Pipeline commands) or lora_set (commands driving the model directly).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/lora_adapter.h"
#include "qwen3/adapter_config.h"
#include "qwen3/pipeline.h"

namespace qwen3::cli {

// run_time: the command runs the model with the adapters (run, chat, serve, bench,
// logits), so it also takes --lora-f16; convert (merging) does not.
inline void add_lora_option(CLI::App& app, std::vector<std::string>& specs,
                            const std::string& help =
                                "LoRA adapter PATH[:SCALE]: a PEFT folder (adapter_config.json + "
                                "adapter_model.safetensors) or a llama.cpp adapter GGUF, scale 1 "
                                "by default; repeat for several adapters",
                            bool run_time = true) {
  app.add_option("--lora", specs, help)->allow_extra_args(false)->type_name("PATH[:SCALE]");
  if (run_time)
    app.add_flag_callback(
        "--lora-f16", [] { set_lora_lossy_f16(true); },
        "Lossy, opt-in: run F32 LoRA adapters from an F16 copy (values rounded to F16: "
        "faster decode, slightly different logits)");
}

inline AdapterConfig lora_config(const std::vector<std::string>& specs) {
  AdapterConfig c;
  for (const auto& s : specs) {
    const AdapterConfig::Adapter a = AdapterConfig::parse(s);
    c.add(a.path, a.alpha);
  }
  return c;
}

// Adds the adapters to the Pipeline properties (property "lora").
inline void apply_lora_option(const std::vector<std::string>& specs, Properties& props) {
  if (!specs.empty()) props["lora"] = lora_config(specs).to_property();
}

// The adapters loaded and checked against the model (nullptr when none were given).
inline std::shared_ptr<const LoraSet> lora_set(const std::vector<std::string>& specs,
                                               const Qwen3Config& c) {
  if (specs.empty()) return nullptr;
  std::vector<std::pair<std::string, float>> list;
  for (const auto& a : lora_config(specs).adapters) list.emplace_back(a.path, a.alpha);
  return load_lora_set(list, c);
}

}  // namespace qwen3::cli
