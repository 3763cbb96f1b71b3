// libFuzzer target for the GGUF reader: any input must parse or give a GgufError; on
// success every key and every tensor byte is read, so ASan catches out-of-bounds views.
#include <cstddef>
#include <cstdint>

#include "gguf/gguf_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qwen3::gguf;
  try {
    GgufFile f = GgufFile::from_bytes(data, size, "fuzz.gguf");
    size_t sum = 0;
    for (const auto& k : f.keys()) {
      try {
        auto t = f.type_of(k);
        if (*t == ValueType::STRING)
          sum += f.get_string(k)->size();
        else if (*t == ValueType::ARRAY) {
          auto et = f.array_type_of(k);
          if (*et == ValueType::STRING)
            sum += f.get_string_array(k).size();
          else if (*et == ValueType::FLOAT32 || *et == ValueType::FLOAT64)
            sum += f.get_float_array(k).size();
          else if (*et != ValueType::BOOL)
            sum += f.get_int_array(k).size();
        } else if (*t == ValueType::BOOL) {
          sum += *f.get_bool(k);
        } else {
          sum += static_cast<size_t>(*f.get_float(k) != 0);
          (void)f.get_int(k);
        }
      } catch (const GgufError&) {
      }
    }
    for (const auto& t : f.tensors()) {
      const auto* p = static_cast<const uint8_t*>(t.data);
      for (size_t i = 0; i < t.nbytes; ++i) sum += p[i];
    }
    volatile size_t sink = sum;
    (void)sink;
  } catch (const GgufError&) {
  }
  return 0;
}
