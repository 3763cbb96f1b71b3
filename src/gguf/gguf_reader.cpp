#include "gguf/gguf_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <unordered_map>

namespace qwen3::gguf {

namespace {

constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
constexpr uint32_t kDefaultAlignment = 32;

size_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL:
      return 1;
    case ValueType::UINT16:
    case ValueType::INT16:
      return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32:
      return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64:
      return 8;
    default:
      return 0;  // STRING, ARRAY: variable size
  }
}

bool is_valid_type(uint32_t t) {
  return t <= static_cast<uint32_t>(ValueType::FLOAT64);
}
bool is_int_type(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::UINT16:
    case ValueType::INT16:
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::UINT64:
    case ValueType::INT64:
      return true;
    default:
      return false;
  }
}

// Bounds-checked little-endian reader over the mapping.
struct Cursor {
  const uint8_t* base;
  size_t size;
  size_t pos;
  const std::string& file;

  [[noreturn]] void fail(const std::string& what, size_t at) const {
    throw GgufError(file + ": " + what, at);
  }
  void need(size_t n, const std::string& field) const {
    if (n > size - pos)
      fail("truncated file while reading " + field + " (need " + std::to_string(n) + " bytes, " +
               std::to_string(size - pos) + " left)",
           pos);
  }
  template <typename T>
  T read(const std::string& field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, base + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string_view read_string(const std::string& field) {
    size_t at = pos;
    uint64_t len = read<uint64_t>(field + " length");
    if (len > size - pos)
      fail(field + " length " + std::to_string(len) + " exceeds the " + std::to_string(size - pos) +
               " bytes left in the file",
           at);
    std::string_view s(reinterpret_cast<const char*>(base + pos), static_cast<size_t>(len));
    pos += static_cast<size_t>(len);
    return s;
  }
};

// Decodes an integer value of any int type stored at p.
bool load_int(ValueType t, const uint8_t* p, int64_t* s, uint64_t* u, bool* is_signed) {
  *is_signed = false;
  switch (t) {
#define QWEN3_INT_CASE(VT, CT, SIGNED) \
  case ValueType::VT: {                \
    CT v;                              \
    std::memcpy(&v, p, sizeof v);      \
    *is_signed = SIGNED;               \
    if (SIGNED)                        \
      *s = static_cast<int64_t>(v);    \
    else                               \
      *u = static_cast<uint64_t>(v);   \
    return true;                       \
  }
    QWEN3_INT_CASE(UINT8, uint8_t, false)
    QWEN3_INT_CASE(INT8, int8_t, true)
    QWEN3_INT_CASE(UINT16, uint16_t, false)
    QWEN3_INT_CASE(INT16, int16_t, true)
    QWEN3_INT_CASE(UINT32, uint32_t, false)
    QWEN3_INT_CASE(INT32, int32_t, true)
    QWEN3_INT_CASE(UINT64, uint64_t, false)
    QWEN3_INT_CASE(INT64, int64_t, true)
#undef QWEN3_INT_CASE
    default:
      return false;
  }
}

}  // namespace

std::string_view value_type_name(ValueType t) {
  static constexpr std::string_view kNames[] = {"UINT8",  "INT8",    "UINT16", "INT16",  "UINT32",
                                                "INT32",  "FLOAT32", "BOOL",   "STRING", "ARRAY",
                                                "UINT64", "INT64",   "FLOAT64"};
  auto i = static_cast<uint32_t>(t);
  return i < std::size(kNames) ? kNames[i] : std::string_view("UNKNOWN");
}

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

GgufError::GgufError(const std::string& what, uint64_t offset)
    : std::runtime_error(what + " (at byte offset " + std::to_string(offset) + ")"),
      offset_(offset) {}

struct GgufFile::Impl {
  std::string path;
  const uint8_t* base = nullptr;
  size_t size = 0;
  void* map = nullptr;  // mmap'ed region (nullptr when owned_ holds the bytes)
  std::vector<uint8_t> owned;
  uint32_t version = 0;
  uint32_t alignment = kDefaultAlignment;

  struct Kv {
    std::string key;
    ValueType type;
    ValueType elem_type;  // arrays only
    uint64_t count;       // arrays only
    size_t value_pos;     // file offset of the value (for arrays: of the first element)
  };
  std::vector<Kv> kvs;
  std::unordered_map<std::string, size_t> kv_index;
  std::vector<TensorInfo> tensors;
  std::unordered_map<std::string, size_t> tensor_index;

  ~Impl() {
    if (map) munmap(map, size);
  }

  [[noreturn]] void fail(const std::string& what, size_t at) const {
    throw GgufError(path + ": " + what, at);
  }
  const Kv* find(std::string_view key) const {
    auto it = kv_index.find(std::string(key));
    return it == kv_index.end() ? nullptr : &kvs[it->second];
  }
  void parse();
  void parse_value(Cursor& c, Kv& kv);
};

void GgufFile::Impl::parse_value(Cursor& c, Kv& kv) {
  const std::string field = "value of key '" + kv.key + "'";
  if (kv.type == ValueType::ARRAY) {
    size_t at = c.pos;
    uint32_t et = c.read<uint32_t>("array element type of key '" + kv.key + "'");
    if (!is_valid_type(et))
      c.fail("key '" + kv.key + "': unknown array element type " + std::to_string(et), at);
    kv.elem_type = static_cast<ValueType>(et);
    if (kv.elem_type == ValueType::ARRAY)
      c.fail("key '" + kv.key + "': nested arrays are not supported", at);
    at = c.pos;
    kv.count = c.read<uint64_t>("array length of key '" + kv.key + "'");
    kv.value_pos = c.pos;
    size_t left = c.size - c.pos;
    if (kv.elem_type == ValueType::STRING) {
      // Each string takes at least its 8-byte length: bounds the count before looping.
      if (kv.count > left / 8)
        c.fail("key '" + kv.key + "': array length " + std::to_string(kv.count) +
                   " exceeds the bytes left in the file",
               at);
      for (uint64_t i = 0; i < kv.count; ++i)
        c.read_string("element " + std::to_string(i) + " of key '" + kv.key + "'");
    } else {
      size_t es = scalar_size(kv.elem_type);
      if (kv.count > left / es)
        c.fail("key '" + kv.key + "': array length " + std::to_string(kv.count) +
                   " exceeds the bytes left in the file",
               at);
      c.pos += static_cast<size_t>(kv.count) * es;
    }
    return;
  }
  kv.value_pos = c.pos;
  if (kv.type == ValueType::STRING) {
    c.read_string(field);
  } else {
    size_t es = scalar_size(kv.type);
    c.need(es, field);
    if (kv.type == ValueType::BOOL && c.base[c.pos] > 1)
      c.fail("key '" + kv.key + "': bool value " + std::to_string(c.base[c.pos]) +
                 " is neither 0 nor 1",
             c.pos);
    c.pos += es;
  }
}

void GgufFile::Impl::parse() {
  Cursor c{base, size, 0, path};
  uint32_t magic = c.read<uint32_t>("magic");
  if (std::memcmp(base, "GGUF", 4) != 0) {
    (void)magic;
    fail("not a GGUF file (bad magic)", 0);
  }
  version = c.read<uint32_t>("version");
  if (version == 1) fail("GGUF version 1 is not supported (only 2 and 3)", 4);
  if (version != 2 && version != 3) {
    if ((version & 0xffff) == 0)
      fail(
          "big-endian GGUF files are not supported (version field " + std::to_string(version) + ")",
          4);
    fail("unsupported GGUF version " + std::to_string(version) + " (only 2 and 3)", 4);
  }
  uint64_t n_tensors = c.read<uint64_t>("tensor count");
  uint64_t n_kv = c.read<uint64_t>("metadata key/value count");
  // The smallest KV takes 13 bytes and the smallest tensor info 28: reject lying counts
  // before reserving anything.
  if (n_kv > (size - c.pos) / 13)
    fail("metadata count " + std::to_string(n_kv) + " exceeds the file", 16);
  if (n_tensors > (size - c.pos) / 28)
    fail("tensor count " + std::to_string(n_tensors) + " exceeds the file", 8);

  // The key of metadata entry i / the name of tensor i: not empty, not seen before.
  auto read_name = [&](const char* item, const char* field, uint64_t i,
                       const std::unordered_map<std::string, size_t>& seen, const char* label) {
    const size_t at = c.pos;
    const std::string n = std::to_string(i);
    std::string name(c.read_string(std::string(field) + " of " + item + " " + n));
    if (name.empty()) fail(std::string(item) + " " + n + " has an empty " + field, at);
    if (seen.count(name)) fail(std::string("duplicate ") + label + " '" + name + "'", at);
    return name;
  };

  kvs.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    Kv kv;
    kv.key = read_name("metadata entry", "key", i, kv_index, "metadata key");
    size_t at = c.pos;
    uint32_t t = c.read<uint32_t>("type of key '" + kv.key + "'");
    if (!is_valid_type(t))
      fail("key '" + kv.key + "': unknown value type " + std::to_string(t), at);
    kv.type = static_cast<ValueType>(t);
    kv.elem_type = kv.type;
    kv.count = 0;
    parse_value(c, kv);
    kv_index.emplace(kv.key, kvs.size());
    kvs.push_back(std::move(kv));
  }

  if (const Kv* a = find("general.alignment")) {
    if (a->type != ValueType::UINT32)
      fail("general.alignment has type " + std::string(value_type_name(a->type)) +
               ", expected UINT32",
           a->value_pos);
    std::memcpy(&alignment, base + a->value_pos, 4);
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
      fail("general.alignment " + std::to_string(alignment) + " is not a power of two",
           a->value_pos);
  }

  tensors.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo ti;
    ti.name = read_name("tensor", "name", i, tensor_index, "tensor name");
    const std::string tn = "tensor '" + ti.name + "'";
    size_t at = c.pos;
    uint32_t n_dims = c.read<uint32_t>("dimension count of " + tn);
    if (n_dims == 0 || n_dims > kMaxDims)
      fail(tn + ": dimension count " + std::to_string(n_dims) + " is not in 1.." +
               std::to_string(kMaxDims),
           at);
    int64_t n_el = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      at = c.pos;
      int64_t ne = c.read<int64_t>("dimension " + std::to_string(d) + " of " + tn);
      if (ne <= 0)
        fail(tn + ": dimension " + std::to_string(d) + " is " + std::to_string(ne) +
                 " (must be positive)",
             at);
      if (n_el > std::numeric_limits<int64_t>::max() / ne)
        fail(tn + ": element count overflows", at);
      n_el *= ne;
      ti.dims.push_back(ne);
    }
    at = c.pos;
    uint32_t type_id = c.read<uint32_t>("type of " + tn);
    auto info = ggml_type_info(type_id);
    if (!info) fail(tn + ": unknown ggml type id " + std::to_string(type_id), at);
    ti.type = info->type;
    if (ti.dims[0] % info->block_size != 0)
      fail(tn + ": row length " + std::to_string(ti.dims[0]) + " is not a multiple of the " +
               std::string(info->name) + " block size " + std::to_string(info->block_size),
           at);
    uint64_t rows = static_cast<uint64_t>(n_el / ti.dims[0]);
    uint64_t row_bytes = static_cast<uint64_t>(ti.dims[0] / info->block_size) * info->type_size;
    if (rows != 0 && row_bytes > std::numeric_limits<uint64_t>::max() / rows)
      fail(tn + ": byte size overflows", at);
    uint64_t nbytes = row_bytes * rows;
    at = c.pos;
    ti.offset = c.read<uint64_t>("data offset of " + tn);
    if (ti.offset % alignment != 0)
      fail(tn + ": data offset " + std::to_string(ti.offset) +
               " is not a multiple of the alignment " + std::to_string(alignment),
           at);
    if (nbytes > size) fail(tn + ": size " + std::to_string(nbytes) + " exceeds the file", at);
    ti.nbytes = static_cast<size_t>(nbytes);
    ti.data = nullptr;
    tensor_index.emplace(ti.name, tensors.size());
    tensors.push_back(std::move(ti));
  }

  // The data section starts at the next multiple of the alignment.
  size_t data_start = c.pos;
  if (data_start % alignment) data_start += alignment - data_start % alignment;

  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });

  // Tensors packed one after the other (as every writer lays them out) that run past the
  // end of the file: the file was cut short, most likely by an interrupted download.
  {
    bool packed = true;
    uint64_t end = 0;
    for (size_t i : order) {
      const TensorInfo& ti = tensors[i];
      uint64_t expect = end % alignment ? end + alignment - end % alignment : end;
      if (ti.offset != expect || ti.nbytes > (uint64_t{1} << 56)) {
        packed = false;
        break;
      }
      end = ti.offset + ti.nbytes;
    }
    if (packed && !tensors.empty() && data_start + end > size)
      fail("file ends at byte " + std::to_string(size) + " but tensor data needs " +
               std::to_string(data_start + end) + ": incomplete download?",
           size);
  }

  if (!tensors.empty() && data_start > size)
    fail("data section start " + std::to_string(data_start) + " is past the end of the file",
         c.pos);
  size_t data_size = data_start <= size ? size - data_start : 0;

  uint64_t prev_end = 0;
  const TensorInfo* prev = nullptr;
  for (size_t i : order) {
    TensorInfo& ti = tensors[i];
    if (ti.offset > data_size || ti.nbytes > data_size - ti.offset)
      fail("tensor '" + ti.name + "': data [" + std::to_string(ti.offset) + ", " +
               std::to_string(ti.offset + ti.nbytes) + ") lies outside the data section of " +
               std::to_string(data_size) + " bytes",
           data_start + std::min<uint64_t>(ti.offset, data_size));
    if (prev && ti.offset < prev_end)
      fail("tensor '" + ti.name + "' overlaps tensor '" + prev->name + "'", data_start + ti.offset);
    prev_end = ti.offset + ti.nbytes;
    prev = &ti;
    ti.data = base + data_start + ti.offset;
  }
}

GgufFile::GgufFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

GgufFile GgufFile::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error(path + ": not a regular file");
  }
  impl->size = static_cast<size_t>(st.st_size);
  if (impl->size == 0) {
    ::close(fd);
    throw GgufError(path + ": empty file, not a GGUF file", 0);
  }
  void* m = mmap(nullptr, impl->size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) throw std::runtime_error("cannot map " + path + ": " + std::strerror(errno));
  impl->map = m;
  impl->base = static_cast<const uint8_t*>(m);
  impl->parse();
  return GgufFile(std::move(impl));
}

GgufFile GgufFile::from_bytes(const void* data, size_t size, std::string name) {
  auto impl = std::make_unique<Impl>();
  impl->path = std::move(name);
  impl->owned.assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + size);
  impl->base = impl->owned.data();
  impl->size = size;
  impl->parse();
  return GgufFile(std::move(impl));
}

const std::string& GgufFile::path() const {
  return impl_->path;
}
uint32_t GgufFile::version() const {
  return impl_->version;
}
uint32_t GgufFile::alignment() const {
  return impl_->alignment;
}
size_t GgufFile::file_size() const {
  return impl_->size;
}
bool GgufFile::has(std::string_view key) const {
  return impl_->find(key) != nullptr;
}

std::optional<ValueType> GgufFile::type_of(std::string_view key) const {
  const auto* kv = impl_->find(key);
  if (!kv) return std::nullopt;
  return kv->type;
}

std::optional<ValueType> GgufFile::array_type_of(std::string_view key) const {
  const auto* kv = impl_->find(key);
  if (!kv || kv->type != ValueType::ARRAY) return std::nullopt;
  return kv->elem_type;
}

namespace {
[[noreturn]] void wrong_type(const std::string& path, std::string_view key, ValueType got,
                             const char* want, size_t at) {
  throw GgufError(path + ": key '" + std::string(key) + "' has type " +
                      std::string(value_type_name(got)) + ", expected " + want,
                  at);
}
std::string_view string_at(const uint8_t* base, size_t pos) {
  uint64_t len;
  std::memcpy(&len, base + pos, 8);
  return {reinterpret_cast<const char*>(base + pos + 8), static_cast<size_t>(len)};
}
}  // namespace

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const auto* kv = impl_->find(key);
  if (!kv) return std::nullopt;
  if (kv->type != ValueType::STRING)
    wrong_type(impl_->path, key, kv->type, "STRING", kv->value_pos);
  return std::string(string_at(impl_->base, kv->value_pos));
}

std::optional<GgufFile::IntValue> GgufFile::int_value(std::string_view key) const {
  const auto* kv = impl_->find(key);
  if (!kv) return std::nullopt;
  IntValue v;
  if (!load_int(kv->type, impl_->base + kv->value_pos, &v.s, &v.u, &v.is_signed))
    wrong_type(impl_->path, key, kv->type, "an integer", kv->value_pos);
  v.pos = kv->value_pos;
  return v;
}

std::optional<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const auto v = int_value(key);
  if (!v) return std::nullopt;
  if (!v->is_signed) return v->u;
  if (v->s < 0)
    throw GgufError(
        impl_->path + ": key '" + std::string(key) + "' is negative (" + std::to_string(v->s) + ")",
        v->pos);
  return static_cast<uint64_t>(v->s);
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const auto v = int_value(key);
  if (!v) return std::nullopt;
  if (v->is_signed) return v->s;
  if (v->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw GgufError(impl_->path + ": key '" + std::string(key) + "' does not fit in int64", v->pos);
  return static_cast<int64_t>(v->u);
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const auto* kv = impl_->find(key);
  if (!kv) return std::nullopt;
  const uint8_t* p = impl_->base + kv->value_pos;
  if (kv->type == ValueType::FLOAT32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (kv->type == ValueType::FLOAT64) {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  int64_t s = 0;
  uint64_t u = 0;
  bool is_signed;
  if (!load_int(kv->type, p, &s, &u, &is_signed))
    wrong_type(impl_->path, key, kv->type, "a number", kv->value_pos);
  return is_signed ? static_cast<double>(s) : static_cast<double>(u);
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const auto* kv = impl_->find(key);
  if (!kv) return std::nullopt;
  if (kv->type != ValueType::BOOL) wrong_type(impl_->path, key, kv->type, "BOOL", kv->value_pos);
  return impl_->base[kv->value_pos] != 0;
}

std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
  const auto* kv = impl_->find(key);
  if (!kv) return {};
  if (kv->type != ValueType::ARRAY || kv->elem_type != ValueType::STRING)
    wrong_type(impl_->path, key, kv->type == ValueType::ARRAY ? kv->elem_type : kv->type,
               "an array of STRING", kv->value_pos);
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(kv->count));
  size_t pos = kv->value_pos;
  for (uint64_t i = 0; i < kv->count; ++i) {
    auto s = string_at(impl_->base, pos);
    out.emplace_back(s);
    pos += 8 + s.size();
  }
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(std::string_view key) const {
  const auto* kv = impl_->find(key);
  if (!kv) return {};
  if (kv->type != ValueType::ARRAY || !is_int_type(kv->elem_type))
    wrong_type(impl_->path, key, kv->type == ValueType::ARRAY ? kv->elem_type : kv->type,
               "an array of integers", kv->value_pos);
  std::vector<int64_t> out(static_cast<size_t>(kv->count));
  size_t es = scalar_size(kv->elem_type);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t s = 0;
    uint64_t u = 0;
    bool is_signed;
    load_int(kv->elem_type, impl_->base + kv->value_pos + i * es, &s, &u, &is_signed);
    if (!is_signed && u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw GgufError(impl_->path + ": element " + std::to_string(i) + " of key '" +
                          std::string(key) + "' does not fit in int64",
                      kv->value_pos + i * es);
    out[i] = is_signed ? s : static_cast<int64_t>(u);
  }
  return out;
}

std::vector<double> GgufFile::get_float_array(std::string_view key) const {
  const auto* kv = impl_->find(key);
  if (!kv) return {};
  if (kv->type != ValueType::ARRAY ||
      (kv->elem_type != ValueType::FLOAT32 && kv->elem_type != ValueType::FLOAT64))
    wrong_type(impl_->path, key, kv->type == ValueType::ARRAY ? kv->elem_type : kv->type,
               "an array of FLOAT32/FLOAT64", kv->value_pos);
  std::vector<double> out(static_cast<size_t>(kv->count));
  const uint8_t* p = impl_->base + kv->value_pos;
  for (size_t i = 0; i < out.size(); ++i) {
    if (kv->elem_type == ValueType::FLOAT32) {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      out[i] = f;
    } else {
      std::memcpy(&out[i], p + 8 * i, 8);
    }
  }
  return out;
}

std::vector<std::string> GgufFile::keys() const {
  std::vector<std::string> out;
  out.reserve(impl_->kvs.size());
  for (const auto& kv : impl_->kvs) out.push_back(kv.key);
  return out;
}

const std::vector<TensorInfo>& GgufFile::tensors() const {
  return impl_->tensors;
}

const TensorInfo* GgufFile::tensor(std::string_view name) const {
  auto it = impl_->tensor_index.find(std::string(name));
  return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

void GgufFile::release_metadata() const {
  if (!impl_->map) return;
  size_t end = impl_->size;
  for (const TensorInfo& t : impl_->tensors)
    end = std::min(end, static_cast<size_t>(static_cast<const uint8_t*>(t.data) - impl_->base));
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  end = end / page * page;  // whole pages only: the first tensor stays untouched
  if (end > 0) madvise(impl_->map, end, MADV_DONTNEED);
}

}  // namespace qwen3::gguf
