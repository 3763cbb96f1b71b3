// qwen3::AdapterConfig: the LoRA adapters a Pipeline runs with, each with its scale (in
// the spirit of OpenVINO GenAI's AdapterConfig, std-only):
//
//   qwen3::AdapterConfig adapters("my-peft-adapter/", 0.8f);   // or an adapter .gguf
//   adapters.add("style.gguf", 0.5f);
//   qwen3::Pipeline pipe("Qwen3-0.6B-Q4_0.gguf", "CPU", {}, adapters);
//   pipe.set_adapters(adapters.set_alpha("style.gguf", 0.0f));  // switched off
//
// An adapter is a Hugging Face PEFT LoRA folder (adapter_config.json +
// adapter_model.safetensors) or a llama.cpp LoRA GGUF. It is applied unmerged
// (y = W x + alpha * s * B A x, with the adapter's own s = lora_alpha / r): the base
// weights stay as loaded and shared; alpha 0 gives the base model exactly.
#pragma once

#include <string>
#include <vector>

namespace qwen3 {

struct AdapterConfig {
  struct Adapter {
    std::string path;
    float alpha = 1.0f;  // the user's scale (llama.cpp's --lora-scaled)
  };
  std::vector<Adapter> adapters;

  AdapterConfig() = default;
  explicit AdapterConfig(const std::string& path, float alpha = 1.0f) { add(path, alpha); }
  AdapterConfig& add(const std::string& path, float alpha = 1.0f);
  // Changes the alpha of an added adapter; throws std::invalid_argument if absent.
  AdapterConfig& set_alpha(const std::string& path, float alpha);
  bool empty() const { return adapters.empty(); }

  // "PATH[:SCALE]" as `--lora` takes it: the part after the last ':' is the scale when
  // it is a number. Throws std::invalid_argument on an empty path or a bad scale.
  static Adapter parse(const std::string& spec);
  // The Pipeline property "lora": one PATH:SCALE per line (and back).
  std::string to_property() const;
  static AdapterConfig from_property(const std::string& value);
};

}  // namespace qwen3
