// Safetensors reader: maps the file, checks the header (length, JSON, dtype, shape,
// data_offsets inside the file, consistent with shape * dtype size, no overlaps) and
// hands out zero-copy views. Malformed input is a SafetensorsError naming the file and
// the problem; the reader never reads outside the mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/ggml_types.h"

namespace qwen3::hf {

class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The header may not exceed this (the reference implementation's limit as well).
constexpr uint64_t kMaxSafetensorsHeader = 100ull << 20;

struct SafetensorsTensor {
  std::string name;
  GgmlType type;               // F32, F16 or BF16
  std::vector<int64_t> shape;  // as stored: outermost first (PyTorch order)
  uint64_t begin = 0;          // byte range inside the data section
  uint64_t end = 0;
  const uint8_t* data = nullptr;  // into the mapping (or buffer); valid while the file lives
  size_t nbytes() const { return static_cast<size_t>(end - begin); }
  int64_t n_elements() const;
  // GGUF order, innermost first: the reverse of `shape`.
  std::vector<int64_t> gguf_dims() const;
};

// Parses a complete safetensors image (8-byte length, JSON header, data). Throws
// SafetensorsError. `data` pointers of the result point into `bytes`.
struct SafetensorsHeader {
  std::vector<SafetensorsTensor> tensors;  // sorted by begin offset
  std::map<std::string, std::string> metadata;
};
SafetensorsHeader parse_safetensors(const uint8_t* bytes, size_t size,
                                    const std::string& name = "<memory>");

class SafetensorsFile {  // read-only mmap; movable
 public:
  static SafetensorsFile open(const std::string& path);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::string& path() const;
  const std::vector<SafetensorsTensor>& tensors() const;
  const SafetensorsTensor* find(std::string_view name) const;  // nullptr if absent
  const std::map<std::string, std::string>& metadata() const;
  // Drops the pages of a tensor from memory once it has been consumed, so streaming
  // a large file does not keep all of it resident (the mapping stays valid).
  void release(const SafetensorsTensor& t) const;

 private:
  struct Impl;
  explicit SafetensorsFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qwen3::hf
