// GGUF writer (v3 by default, data aligned to general.alignment = 32). Tensors are
// produced on demand while writing, so a whole model never sits in memory twice.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gguf/ggml_types.h"
#include "gguf/gguf_reader.h"

namespace qwen3::gguf {

class GgufWriter {
 public:
  GgufWriter();
  ~GgufWriter();
  GgufWriter(GgufWriter&&) noexcept;
  GgufWriter& operator=(GgufWriter&&) noexcept;

  void set_version(uint32_t v);  // 2 or 3 (identical layout for little-endian files)
  // Metadata. Setting a key again replaces its value (keeps its position).
  void set_string(const std::string& key, const std::string& v);
  void set_u8(const std::string& key, uint8_t v);
  void set_i8(const std::string& key, int8_t v);
  void set_u16(const std::string& key, uint16_t v);
  void set_i16(const std::string& key, int16_t v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_i64(const std::string& key, int64_t v);
  void set_f32(const std::string& key, float v);
  void set_f64(const std::string& key, double v);
  void set_bool(const std::string& key, bool v);
  void set_string_array(const std::string& key, const std::vector<std::string>& v);
  void set_int32_array(const std::string& key, const std::vector<int32_t>& v);
  void set_f32_array(const std::string& key, const std::vector<float>& v);
  // Copies `key` of `f` with its value and type, for the types Qwen3 files hold (string,
  // f32, bool, u32, arrays of strings or int32); false (nothing written) for other types.
  bool copy_key(const GgufFile& f, const std::string& key);

  // Tensors, in the order they will be written. dims innermost first.
  void add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& dims,
                  std::vector<uint8_t> bytes);
  void add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& dims,
                  const void* data, size_t nbytes);  // copies
  // `fill` writes exactly nbytes(type, dims) bytes into dst when the tensor is written.
  using Producer = std::function<void(void* dst, size_t nbytes)>;
  void add_tensor_lazy(const std::string& name, GgmlType type, const std::vector<int64_t>& dims,
                       Producer fill);

  // Writes the file (to path + ".tmp", then renamed). Throws std::runtime_error on I/O errors.
  void write(const std::string& path) const;

  static size_t tensor_nbytes(GgmlType type, const std::vector<int64_t>& dims);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qwen3::gguf
