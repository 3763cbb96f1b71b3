#include "gguf/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

namespace qwen3::gguf {

namespace {

constexpr uint32_t kAlignment = 32;

// Appends little-endian values to a byte buffer (x86-64 is little-endian).
struct Bytes {
  std::vector<uint8_t> b;
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
  }
};

}  // namespace

struct GgufWriter::Impl {
  uint32_t version = 3;
  struct Kv {
    std::string key;
    std::vector<uint8_t> encoded;  // type + value, as stored after the key
  };
  std::vector<Kv> kvs;
  std::unordered_map<std::string, size_t> kv_index;
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> dims;
    size_t nbytes;
    std::vector<uint8_t> bytes;  // empty when produced lazily
    Producer fill;
  };
  std::vector<Tensor> tensors;
  std::unordered_map<std::string, size_t> tensor_index;

  void set(const std::string& key, Bytes value) {
    if (key.empty()) throw std::invalid_argument("GGUF metadata key must not be empty");
    auto it = kv_index.find(key);
    if (it != kv_index.end()) {
      kvs[it->second].encoded = std::move(value.b);
      return;
    }
    kv_index.emplace(key, kvs.size());
    kvs.push_back({key, std::move(value.b)});
  }
  template <typename T>
  void set_scalar(const std::string& key, ValueType t, T v) {
    Bytes b;
    b.put<uint32_t>(static_cast<uint32_t>(t));
    b.put<T>(v);
    set(key, std::move(b));
  }
  void add(Tensor t) {
    if (t.name.empty()) throw std::invalid_argument("GGUF tensor name must not be empty");
    if (tensor_index.count(t.name))
      throw std::invalid_argument("duplicate GGUF tensor name '" + t.name + "'");
    tensor_index.emplace(t.name, tensors.size());
    tensors.push_back(std::move(t));
  }
};

GgufWriter::GgufWriter() : impl_(std::make_unique<Impl>()) {}
GgufWriter::~GgufWriter() = default;
GgufWriter::GgufWriter(GgufWriter&&) noexcept = default;
GgufWriter& GgufWriter::operator=(GgufWriter&&) noexcept = default;

void GgufWriter::set_version(uint32_t v) {
  if (v != 2 && v != 3) throw std::invalid_argument("GGUF writer supports versions 2 and 3");
  impl_->version = v;
}

void GgufWriter::set_string(const std::string& key, const std::string& v) {
  Bytes b;
  b.put<uint32_t>(static_cast<uint32_t>(ValueType::STRING));
  b.put_string(v);
  impl_->set(key, std::move(b));
}
void GgufWriter::set_u8(const std::string& k, uint8_t v) {
  impl_->set_scalar(k, ValueType::UINT8, v);
}
void GgufWriter::set_i8(const std::string& k, int8_t v) {
  impl_->set_scalar(k, ValueType::INT8, v);
}
void GgufWriter::set_u16(const std::string& k, uint16_t v) {
  impl_->set_scalar(k, ValueType::UINT16, v);
}
void GgufWriter::set_i16(const std::string& k, int16_t v) {
  impl_->set_scalar(k, ValueType::INT16, v);
}
void GgufWriter::set_u32(const std::string& k, uint32_t v) {
  impl_->set_scalar(k, ValueType::UINT32, v);
}
void GgufWriter::set_i32(const std::string& k, int32_t v) {
  impl_->set_scalar(k, ValueType::INT32, v);
}
void GgufWriter::set_u64(const std::string& k, uint64_t v) {
  impl_->set_scalar(k, ValueType::UINT64, v);
}
void GgufWriter::set_i64(const std::string& k, int64_t v) {
  impl_->set_scalar(k, ValueType::INT64, v);
}
void GgufWriter::set_f32(const std::string& k, float v) {
  impl_->set_scalar(k, ValueType::FLOAT32, v);
}
void GgufWriter::set_f64(const std::string& k, double v) {
  impl_->set_scalar(k, ValueType::FLOAT64, v);
}
void GgufWriter::set_bool(const std::string& k, bool v) {
  impl_->set_scalar<uint8_t>(k, ValueType::BOOL, v ? 1 : 0);
}

void GgufWriter::set_string_array(const std::string& key, const std::vector<std::string>& v) {
  Bytes b;
  b.put<uint32_t>(static_cast<uint32_t>(ValueType::ARRAY));
  b.put<uint32_t>(static_cast<uint32_t>(ValueType::STRING));
  b.put<uint64_t>(v.size());
  for (const auto& s : v) b.put_string(s);
  impl_->set(key, std::move(b));
}

void GgufWriter::set_int32_array(const std::string& key, const std::vector<int32_t>& v) {
  Bytes b;
  b.put<uint32_t>(static_cast<uint32_t>(ValueType::ARRAY));
  b.put<uint32_t>(static_cast<uint32_t>(ValueType::INT32));
  b.put<uint64_t>(v.size());
  for (int32_t x : v) b.put<int32_t>(x);
  impl_->set(key, std::move(b));
}

void GgufWriter::set_f32_array(const std::string& key, const std::vector<float>& v) {
  Bytes b;
  b.put<uint32_t>(static_cast<uint32_t>(ValueType::ARRAY));
  b.put<uint32_t>(static_cast<uint32_t>(ValueType::FLOAT32));
  b.put<uint64_t>(v.size());
  for (float x : v) b.put<float>(x);
  impl_->set(key, std::move(b));
}

bool GgufWriter::copy_key(const GgufFile& f, const std::string& key) {
  const auto t = f.type_of(key);
  if (!t) return false;
  if (*t == ValueType::STRING) {
    set_string(key, *f.get_string(key));
  } else if (*t == ValueType::FLOAT32) {
    set_f32(key, static_cast<float>(*f.get_float(key)));
  } else if (*t == ValueType::BOOL) {
    set_bool(key, *f.get_bool(key));
  } else if (*t == ValueType::UINT32) {
    set_u32(key, static_cast<uint32_t>(*f.get_uint(key)));
  } else if (*t == ValueType::ARRAY && f.array_type_of(key) == ValueType::STRING) {
    set_string_array(key, f.get_string_array(key));
  } else if (*t == ValueType::ARRAY && f.array_type_of(key) == ValueType::INT32) {
    std::vector<int32_t> v;
    for (auto x : f.get_int_array(key)) v.push_back(static_cast<int32_t>(x));
    set_int32_array(key, v);
  } else {
    return false;
  }
  return true;
}

size_t GgufWriter::tensor_nbytes(GgmlType type, const std::vector<int64_t>& dims) {
  if (dims.empty() || dims.size() > 4)
    throw std::invalid_argument("a GGUF tensor has 1 to 4 dimensions");
  const auto& ti = ggml_type_info(type);
  for (int64_t d : dims)
    if (d <= 0) throw std::invalid_argument("GGUF tensor dimensions must be positive");
  if (dims[0] % ti.block_size != 0)
    throw std::invalid_argument("row length " + std::to_string(dims[0]) +
                                " is not a multiple of the " + std::string(ti.name) +
                                " block size " + std::to_string(ti.block_size));
  size_t rows = 1;
  for (size_t i = 1; i < dims.size(); ++i) rows *= static_cast<size_t>(dims[i]);
  return ggml_row_size(type, dims[0]) * rows;
}

void GgufWriter::add_tensor(const std::string& name, GgmlType type,
                            const std::vector<int64_t>& dims, std::vector<uint8_t> bytes) {
  size_t n = tensor_nbytes(type, dims);
  if (bytes.size() != n)
    throw std::invalid_argument("tensor '" + name + "': " + std::to_string(bytes.size()) +
                                " bytes given, " + std::to_string(n) + " expected");
  impl_->add({name, type, dims, n, std::move(bytes), nullptr});
}

void GgufWriter::add_tensor(const std::string& name, GgmlType type,
                            const std::vector<int64_t>& dims, const void* data, size_t nbytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  add_tensor(name, type, dims, std::vector<uint8_t>(p, p + nbytes));
}

void GgufWriter::add_tensor_lazy(const std::string& name, GgmlType type,
                                 const std::vector<int64_t>& dims, Producer fill) {
  size_t n = tensor_nbytes(type, dims);
  impl_->add({name, type, dims, n, {}, std::move(fill)});
}

void GgufWriter::write(const std::string& path) const {
  const auto& kvs = impl_->kvs;
  bool has_alignment = impl_->kv_index.count("general.alignment") > 0;
  Bytes h;
  h.b.insert(h.b.end(), {'G', 'G', 'U', 'F'});
  h.put<uint32_t>(impl_->version);
  h.put<uint64_t>(impl_->tensors.size());
  h.put<uint64_t>(kvs.size() + (has_alignment ? 0 : 1));
  for (const auto& kv : kvs) {
    h.put_string(kv.key);
    h.b.insert(h.b.end(), kv.encoded.begin(), kv.encoded.end());
  }
  if (!has_alignment) {
    h.put_string("general.alignment");
    h.put<uint32_t>(static_cast<uint32_t>(ValueType::UINT32));
    h.put<uint32_t>(kAlignment);
  }
  auto pad = [](uint64_t x) { return (x + kAlignment - 1) / kAlignment * kAlignment; };
  uint64_t offset = 0;
  for (const auto& t : impl_->tensors) {
    h.put_string(t.name);
    h.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) h.put<int64_t>(d);
    h.put<uint32_t>(static_cast<uint32_t>(t.type));
    h.put<uint64_t>(offset);
    offset = pad(offset + t.nbytes);
  }
  h.b.resize(pad(h.b.size()), 0);

  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
  auto put = [&](const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f) != n)
      throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  };
  try {
    put(h.b.data(), h.b.size());
    std::vector<uint8_t> buf;
    static const uint8_t zeros[kAlignment] = {};
    for (const auto& t : impl_->tensors) {
      if (t.fill) {
        buf.assign(t.nbytes, 0);
        t.fill(buf.data(), t.nbytes);
        put(buf.data(), t.nbytes);
      } else {
        put(t.bytes.data(), t.nbytes);
      }
      put(zeros, pad(t.nbytes) - t.nbytes);
    }
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
}

}  // namespace qwen3::gguf
