// libFuzzer target for the PEFT LoRA loader: the input is adapter_config.json's text, a
// NUL byte, then adapter_model.safetensors' bytes (no NUL: all config, no tensors). Any
// input must load or give a std::runtime_error, never crash or hang; a loaded adapter's
// matrices must have the sizes their shapes say, and the base-model check against the
// tiny preset must also end in a clean error or pass. Seeds: fuzz/corpus/lora_peft/
// (written by `qwen3 gen-lora` for a 2-layer, 16-wide tiny base).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "lora_fuzz_check.h"
#include "model/lora_adapter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t cfg_len = nul ? static_cast<size_t>(nul - data) : size;
  const std::string config(reinterpret_cast<const char*>(data), cfg_len);
  const uint8_t* st = nul ? nul + 1 : data + size;
  const size_t st_len = size - (nul ? cfg_len + 1 : cfg_len);
  try {
    qwen3::fuzz::check_loaded_adapter(*qwen3::parse_peft_adapter(config, st, st_len, "fuzz"));
  } catch (const std::runtime_error&) {
  }
  return 0;
}
