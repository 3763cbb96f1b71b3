// libFuzzer target: any byte string must parse or give a SafetensorsError, never crash,
// and every tensor of a parsed file must lie inside the buffer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto h = qwen3::hf::parse_safetensors(data, size, "fuzz");
    for (const auto& t : h.tensors) {
      if (t.data < data || t.data + t.nbytes() > data + size) std::abort();
      if (t.nbytes() > 0) {
        volatile uint8_t sink = t.data[0] ^ t.data[t.nbytes() - 1];
        (void)sink;
      }
    }
  } catch (const qwen3::hf::SafetensorsError&) {
  }
  return 0;
}
