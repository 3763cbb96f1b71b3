// libFuzzer target for the llama.cpp LoRA GGUF loader: any bytes must load or give a
// std::runtime_error (GgufError included), never crash or hang; a loaded adapter's
// matrices must have the sizes their shapes say, and the base-model check against the
// tiny preset must also end in a clean error or pass. Seeds: fuzz/corpus/lora_gguf/
// (written by `qwen3 gen-lora` for a 2-layer, 16-wide tiny base).
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "gguf/gguf_reader.h"
#include "lora_fuzz_check.h"
#include "model/lora_adapter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qwen3;
  try {
    const gguf::GgufFile f = gguf::GgufFile::from_bytes(data, size, "fuzz.gguf");
    const auto a = parse_gguf_adapter(f, "fuzz.gguf");
    fuzz::check_loaded_adapter(*a);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
