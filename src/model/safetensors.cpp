#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace qwen3::hf {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw SafetensorsError(file + ": " + what);
}

// Dtypes the engine can take as they are; others get a clear error naming them.
bool dtype_from_name(const std::string& s, GgmlType* t) {
  if (s == "F32")
    *t = GgmlType::F32;
  else if (s == "F16")
    *t = GgmlType::F16;
  else if (s == "BF16")
    *t = GgmlType::BF16;
  else
    return false;
  return true;
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// A non-negative integer that fits in uint64 (JSON numbers may be floats or negative).
bool as_u64(const json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v < 0) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

// Parses the JSON header, rejecting duplicate top-level names and deep nesting (the
// header is two levels deep; anything deeper is malformed).
json parse_header_json(const std::string& file, const char* p, size_t n) {
  struct TooDeep {};
  std::set<std::string> seen;
  std::string dup;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json& parsed) {
    if (depth > 4) throw TooDeep{};
    if (ev == json::parse_event_t::key && depth == 1) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (!seen.insert(k).second && dup.empty()) dup = k;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(p, p + n, cb);
  } catch (const TooDeep&) {
    fail(file, "header JSON is nested too deeply");
  } catch (const json::exception& e) {
    fail(file, std::string("header is not valid JSON: ") + e.what());
  }
  if (!dup.empty()) fail(file, "tensor '" + dup + "' appears twice in the header");
  if (!j.is_object()) fail(file, "header must be a JSON object");
  return j;
}

SafetensorsTensor parse_entry(const std::string& file, const std::string& name, const json& v,
                              uint64_t data_size) {
  const std::string where = "tensor '" + name + "': ";
  if (name.empty()) fail(file, "a tensor has an empty name");
  if (!v.is_object()) fail(file, where + "entry must be an object");
  SafetensorsTensor t;
  t.name = name;

  auto dt = v.find("dtype");
  if (dt == v.end() || !dt->is_string()) fail(file, where + "missing string field 'dtype'");
  if (!dtype_from_name(dt->get<std::string>(), &t.type))
    fail(file,
         where + "unsupported dtype '" + dt->get<std::string>() + "' (supported: F32, F16, BF16)");

  auto sh = v.find("shape");
  if (sh == v.end() || !sh->is_array()) fail(file, where + "missing array field 'shape'");
  if (sh->size() > 8) fail(file, where + "shape has more than 8 dimensions");
  // Element count with overflow checks: each dim and the product stay below 2^62.
  constexpr uint64_t kLimit = 1ull << 62;
  uint64_t count = 1;
  for (const auto& d : *sh) {
    uint64_t x;
    if (!as_u64(d, &x) || x >= kLimit) fail(file, where + "shape entries must be integers >= 0");
    t.shape.push_back(static_cast<int64_t>(x));
    if (x != 0 && count > kLimit / x) fail(file, where + "shape is too large");
    count *= x;
  }

  auto off = v.find("data_offsets");
  if (off == v.end() || !off->is_array() || off->size() != 2)
    fail(file, where + "'data_offsets' must be an array [begin, end]");
  if (!as_u64((*off)[0], &t.begin) || !as_u64((*off)[1], &t.end))
    fail(file, where + "'data_offsets' must hold integers >= 0");
  if (t.begin > t.end) fail(file, where + "data_offsets begin > end");
  if (t.end > data_size)
    fail(file, where + "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                   ") run past the end of the file (data section is " + std::to_string(data_size) +
                   " bytes)");
  const uint64_t elem = ggml_type_info(t.type).type_size;
  if (count > kLimit / elem || count * elem != t.end - t.begin)
    fail(file, where + "data_offsets span " + std::to_string(t.end - t.begin) +
                   " bytes but shape x dtype needs " + std::to_string(count) + " x " +
                   std::to_string(elem));
  return t;
}

}  // namespace

int64_t SafetensorsTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<int64_t> SafetensorsTensor::gguf_dims() const {
  return std::vector<int64_t>(shape.rbegin(), shape.rend());
}

SafetensorsHeader parse_safetensors(const uint8_t* bytes, size_t size, const std::string& name) {
  if (size < 8)
    fail(name, "file is too small to be safetensors (" + std::to_string(size) + " bytes)");
  const uint64_t n = read_u64_le(bytes);
  if (n < 2) fail(name, "header length " + std::to_string(n) + " is too small");
  if (n > kMaxSafetensorsHeader)
    fail(name, "header length " + std::to_string(n) + " exceeds the 100 MiB limit");
  if (n > size - 8)
    fail(name, "header length " + std::to_string(n) + " runs past the end of the file (" +
                   std::to_string(size) + " bytes)");
  const char* hp = reinterpret_cast<const char*>(bytes + 8);
  if (hp[0] != '{') fail(name, "header must start with '{'");
  json j = parse_header_json(name, hp, static_cast<size_t>(n));

  SafetensorsHeader h;
  const uint64_t data_size = size - 8 - n;
  const uint8_t* data = bytes + 8 + n;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) fail(name, "__metadata__ must be an object of strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail(name, "__metadata__ value '" + m.key() + "' is not a string");
        h.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    SafetensorsTensor t = parse_entry(name, it.key(), *it, data_size);
    t.data = data + t.begin;
    h.tensors.push_back(std::move(t));
  }
  std::sort(h.tensors.begin(), h.tensors.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < h.tensors.size(); ++i) {
    const auto& a = h.tensors[i - 1];
    const auto& b = h.tensors[i];
    if (b.begin < a.end)
      fail(name, "tensors '" + a.name + "' and '" + b.name + "' overlap in the data section");
  }
  return h;
}

struct SafetensorsFile::Impl {
  std::string path;
  void* map = nullptr;
  size_t size = 0;
  SafetensorsHeader header;
  ~Impl() {
    if (map) munmap(map, size);
  }
};

SafetensorsFile::SafetensorsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "not a regular file");
  }
  impl->size = static_cast<size_t>(st.st_size);
  if (impl->size < 8) {
    ::close(fd);
    fail(path, "file is too small to be safetensors (" + std::to_string(impl->size) + " bytes)");
  }
  impl->map = mmap(nullptr, impl->size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (impl->map == MAP_FAILED) {
    impl->map = nullptr;
    fail(path, std::string("mmap failed: ") + std::strerror(errno));
  }
  impl->header = parse_safetensors(static_cast<const uint8_t*>(impl->map), impl->size, path);
  return SafetensorsFile(std::move(impl));
}

const std::string& SafetensorsFile::path() const {
  return impl_->path;
}
const std::vector<SafetensorsTensor>& SafetensorsFile::tensors() const {
  return impl_->header.tensors;
}
const std::map<std::string, std::string>& SafetensorsFile::metadata() const {
  return impl_->header.metadata;
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  for (const auto& t : impl_->header.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

void SafetensorsFile::release(const SafetensorsTensor& t) const {
  // Only whole pages strictly inside the tensor, so neighbours stay untouched.
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t lo = reinterpret_cast<uintptr_t>(t.data);
  uintptr_t hi = lo + t.nbytes();
  lo = (lo + page - 1) / page * page;
  hi = hi / page * page;
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

}  // namespace qwen3::hf
