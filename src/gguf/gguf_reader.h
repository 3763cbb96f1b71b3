// GGUF reader: maps the file, checks every field, hands out zero-copy tensor views.
// Any malformed input is a GgufError naming the field and the byte offset; the reader
// never reads outside the mapping and never allocates from an unchecked count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/ggml_types.h"

namespace qwen3::gguf {

enum class ValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

std::string_view value_type_name(ValueType t);

struct TensorInfo {
  std::string name;
  GgmlType type;
  std::vector<int64_t> dims;  // innermost first (dims[0] = row length)
  uint64_t offset;            // relative to the start of the data section
  size_t nbytes;
  const void* data;  // points into the mapping; valid while the GgufFile lives
  int64_t n_elements() const;
};

class GgufError : public std::runtime_error {
 public:
  GgufError(const std::string& what, uint64_t offset);
  uint64_t offset() const { return offset_; }

 private:
  uint64_t offset_;
};

class GgufFile {  // mmap, zero-copy, movable
 public:
  static GgufFile open(const std::string& path);
  // Parses a buffer held in memory (copied; used by the fuzzer and tests).
  static GgufFile from_bytes(const void* data, size_t size, std::string name = "<memory>");

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  const std::string& path() const;
  uint32_t version() const;
  uint32_t alignment() const;
  size_t file_size() const;

  bool has(std::string_view key) const;
  std::optional<ValueType> type_of(std::string_view key) const;
  // For arrays: the element type (nullopt if the key is absent or not an array).
  std::optional<ValueType> array_type_of(std::string_view key) const;

  // nullopt if absent; GgufError if present with an incompatible type.
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<uint64_t> get_uint(std::string_view key) const;  // any int type that fits
  std::optional<int64_t> get_int(std::string_view key) const;    // any int type that fits
  std::optional<double> get_float(std::string_view key) const;   // float32/64 (and ints)
  std::optional<bool> get_bool(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;  // empty if absent
  std::vector<int64_t> get_int_array(std::string_view key) const;         // empty if absent
  std::vector<double> get_float_array(std::string_view key) const;        // empty if absent
  std::vector<std::string> keys() const;                                  // in file order

  const std::vector<TensorInfo>& tensors() const;
  const TensorInfo* tensor(std::string_view name) const;  // nullptr if absent

  // Drops the resident pages of the header and metadata of a mapped file (the tokenizer
  // arrays are megabytes); reading a key afterwards pages them back in from the file.
  void release_metadata() const;

 private:
  struct Impl;
  struct IntValue {  // an integer key's value as stored, and its file offset
    int64_t s = 0;
    uint64_t u = 0;
    bool is_signed = false;
    size_t pos = 0;
  };
  std::optional<IntValue> int_value(std::string_view key) const;
  explicit GgufFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qwen3::gguf
