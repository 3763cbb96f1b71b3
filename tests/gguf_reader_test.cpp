// GGUF reader and writer: round trips of every value type, and malformed files (hand-built
// field corruptions, every truncation, thousands of random mutations) that must give a
// GgufError naming the problem, never a crash or an out-of-bounds read.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "kernels/quant.h"

namespace qwen3::gguf {
namespace {

std::string tmp_path(const std::string& name) {
  return std::string(QWEN3_BUILD_DIR) + "/gguf_reader_test_" + name;
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::vector<uint8_t> out;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return out;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return out;
}

// Hand-built GGUF: every field written explicitly, so a test can corrupt any one of them.
struct Bytes {
  std::vector<uint8_t> b;
  template <typename T>
  size_t put(T v) {
    size_t at = b.size();
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
    return at;
  }
  size_t str(const std::string& s) {
    size_t at = put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return at;
  }
  template <typename T>
  void poke(size_t at, T v) {
    std::memcpy(b.data() + at, &v, sizeof(T));
  }
};

// Offsets of the fields of the hand-built file, for targeted corruption.
struct Layout {
  size_t version, n_tensors, n_kv, kv_type, str_len, arr_type, arr_count, align_value, tensor_ndims,
      tensor_dim0, tensor_type, tensor_offset, bool_value;
};

Bytes build_valid(Layout* L) {
  Bytes f;
  f.b = {'G', 'G', 'U', 'F'};
  L->version = f.put<uint32_t>(3);
  L->n_tensors = f.put<uint64_t>(2);
  L->n_kv = f.put<uint64_t>(5);
  f.str("general.architecture");
  L->kv_type = f.put<uint32_t>(8);
  L->str_len = f.str("qwen3");
  f.str("general.alignment");
  f.put<uint32_t>(4);
  L->align_value = f.put<uint32_t>(32);
  f.str("test.ints");
  f.put<uint32_t>(9);
  L->arr_type = f.put<uint32_t>(5);
  L->arr_count = f.put<uint64_t>(3);
  f.put<int32_t>(-1);
  f.put<int32_t>(2);
  f.put<int32_t>(3);
  f.str("test.flag");
  f.put<uint32_t>(7);
  L->bool_value = f.put<uint8_t>(1);
  f.str("test.f");
  f.put<uint32_t>(6);
  f.put<float>(0.5f);
  // tensor a: F32 [8, 2] at 0 (64 bytes); tensor b: Q8_0 [32] at 64 (34 bytes).
  f.str("a");
  L->tensor_ndims = f.put<uint32_t>(2);
  L->tensor_dim0 = f.put<int64_t>(8);
  f.put<int64_t>(2);
  L->tensor_type = f.put<uint32_t>(0);
  L->tensor_offset = f.put<uint64_t>(0);
  f.str("b");
  f.put<uint32_t>(1);
  f.put<int64_t>(32);
  f.put<uint32_t>(8);
  f.put<uint64_t>(64);
  while (f.b.size() % 32) f.b.push_back(0);
  for (int i = 0; i < 16; ++i) f.put<float>(static_cast<float>(i));
  for (int i = 0; i < 34; ++i) f.put<uint8_t>(static_cast<uint8_t>(i));
  return f;
}

GgufFile parse(const Bytes& f) {
  return GgufFile::from_bytes(f.b.data(), f.b.size(), "t.gguf");
}

// Expects a GgufError whose message contains `needle`.
void expect_error(const Bytes& f, const std::string& needle) {
  try {
    parse(f);
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const GgufError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("offset"), std::string::npos) << e.what();
  }
}

TEST(GgufReader, ParsesHandBuiltFile) {
  Layout L;
  Bytes f = build_valid(&L);
  GgufFile g = parse(f);
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  EXPECT_EQ(g.get_string("general.architecture"), "qwen3");
  EXPECT_EQ(g.get_int_array("test.ints"), (std::vector<int64_t>{-1, 2, 3}));
  EXPECT_EQ(g.get_bool("test.flag"), true);
  EXPECT_EQ(g.get_float("test.f"), 0.5);
  EXPECT_EQ(g.keys().size(), 5u);
  ASSERT_EQ(g.tensors().size(), 2u);
  const TensorInfo* a = g.tensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dims, (std::vector<int64_t>{8, 2}));
  EXPECT_EQ(a->nbytes, 64u);
  EXPECT_EQ(static_cast<const float*>(a->data)[15], 15.0f);
  const TensorInfo* b = g.tensor("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->type, GgmlType::Q8_0);
  EXPECT_EQ(b->nbytes, 34u);
  EXPECT_EQ(static_cast<const uint8_t*>(b->data)[33], 33);
  EXPECT_EQ(g.tensor("c"), nullptr);
  EXPECT_FALSE(g.get_string("missing").has_value());
  EXPECT_TRUE(g.get_string_array("missing").empty());
}

TEST(GgufReader, AcceptsVersion2) {
  Layout L;
  Bytes f = build_valid(&L);
  f.poke<uint32_t>(L.version, 2);
  EXPECT_EQ(parse(f).version(), 2u);
}

TEST(GgufReader, WrongTypeAccessIsAnError) {
  Layout L;
  GgufFile g = parse(build_valid(&L));
  EXPECT_THROW(g.get_uint("general.architecture"), GgufError);
  EXPECT_THROW(g.get_string("general.alignment"), GgufError);
  EXPECT_THROW(g.get_string_array("test.ints"), GgufError);
  EXPECT_THROW(g.get_bool("test.f"), GgufError);
  EXPECT_THROW(g.get_uint("test.ints"), GgufError);
  EXPECT_EQ(g.get_uint("general.alignment"), 32u);
  EXPECT_EQ(g.get_int("general.alignment"), 32);
}

TEST(GgufReader, NamesEachCorruptedField) {
  Layout L;
  const Bytes good = build_valid(&L);
  auto with = [&](auto fn) {
    Bytes f = good;
    fn(f);
    return f;
  };
  expect_error(with([](Bytes& f) { f.b[0] = 'X'; }), "magic");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.version, 1); }), "version 1");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.version, 4); }), "version 4");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.version, 0x03000000); }), "big-endian");
  expect_error(with([&](Bytes& f) { f.poke<uint64_t>(L.n_tensors, 1ull << 60); }), "tensor count");
  expect_error(with([&](Bytes& f) { f.poke<uint64_t>(L.n_kv, ~0ull); }), "metadata count");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.kv_type, 13); }), "unknown value type 13");
  expect_error(with([&](Bytes& f) { f.poke<uint64_t>(L.str_len, 1ull << 40); }),
               "value of key 'general.architecture' length");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.arr_type, 9); }), "nested arrays");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.arr_type, 99); }),
               "unknown array element type 99");
  expect_error(with([&](Bytes& f) { f.poke<uint64_t>(L.arr_count, 1ull << 62); }), "array length");
  expect_error(with([&](Bytes& f) { f.poke<uint8_t>(L.bool_value, 7); }), "bool value 7");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.align_value, 24); }),
               "general.alignment 24");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.align_value, 0); }), "general.alignment 0");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.tensor_ndims, 5); }), "dimension count 5");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.tensor_ndims, 0); }), "dimension count 0");
  expect_error(with([&](Bytes& f) { f.poke<int64_t>(L.tensor_dim0, -8); }), "dimension 0 is -8");
  expect_error(with([&](Bytes& f) { f.poke<int64_t>(L.tensor_dim0, 1ll << 62); }), "tensor 'a'");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.tensor_type, 77); }),
               "tensor 'a': unknown ggml type id 77");
  expect_error(with([&](Bytes& f) { f.poke<uint32_t>(L.tensor_type, 2); }),
               "not a multiple of the Q4_0 block size");
  expect_error(with([&](Bytes& f) { f.poke<uint64_t>(L.tensor_offset, 16); }),
               "not a multiple of the alignment");
  expect_error(with([&](Bytes& f) { f.poke<uint64_t>(L.tensor_offset, 32); }), "overlaps");
  expect_error(with([&](Bytes& f) { f.poke<uint64_t>(L.tensor_offset, 1ull << 40); }),
               "outside the data section");
  expect_error(with([&](Bytes& f) { f.b.resize(f.b.size() - 1); }), "incomplete download?");
}

// A download cut short says so, with the file's end and the end its tensors need.
TEST(GgufReader, TruncatedTensorDataSaysIncompleteDownload) {
  Layout L;
  const Bytes good = build_valid(&L);
  const size_t full = good.b.size();
  for (size_t cut : {size_t{1}, size_t{34}, size_t{35}, size_t{98}, size_t{100}}) {
    Bytes f = good;
    f.b.resize(full - cut);
    try {
      parse(f);
      ADD_FAILURE() << "no error for a file cut by " << cut << " bytes";
    } catch (const GgufError& e) {
      const std::string want = "file ends at byte " + std::to_string(full - cut) +
                               " but tensor data needs " + std::to_string(full) +
                               ": incomplete download?";
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  }
}

TEST(GgufReader, EveryTruncationIsAnError) {
  Layout L;
  const Bytes good = build_valid(&L);
  for (size_t n = 0; n < good.b.size(); ++n) {
    Bytes f;
    f.b.assign(good.b.begin(), good.b.begin() + static_cast<long>(n));
    EXPECT_THROW(parse(f), GgufError) << "prefix of " << n << " bytes";
  }
}

// Reads everything a parsed file offers, so out-of-bounds views would be touched.
size_t touch_all(const GgufFile& g) {
  size_t sum = 0;
  for (const auto& k : g.keys()) {
    auto t = g.type_of(k);
    EXPECT_TRUE(t.has_value());
    if (!t) continue;
    try {
      if (*t == ValueType::STRING) sum += g.get_string(k)->size();
      if (*t == ValueType::ARRAY && g.array_type_of(k) == ValueType::STRING)
        sum += g.get_string_array(k).size();
      if (*t == ValueType::ARRAY && g.array_type_of(k) == ValueType::INT32)
        sum += g.get_int_array(k).size();
      if (*t != ValueType::STRING && *t != ValueType::ARRAY) sum += g.get_float(k).has_value();
    } catch (const GgufError&) {
    }
  }
  for (const auto& t : g.tensors()) {
    const auto* p = static_cast<const uint8_t*>(t.data);
    for (size_t i = 0; i < t.nbytes; ++i) sum += p[i];
  }
  return sum;
}

TEST(GgufReader, RandomMutationsGiveErrorsNotCrashes) {
  // A writer-made file with strings, arrays and several tensor types.
  GgufWriter w;
  w.set_string("general.architecture", "qwen3");
  w.set_string_array("tokenizer.ggml.tokens", {"a", "bb", "ccc", "<|im_end|>"});
  w.set_int32_array("tokenizer.ggml.token_type", {1, 1, 1, 3});
  w.set_u32("qwen3.block_count", 2);
  w.set_f32("qwen3.rope.freq_base", 1e6f);
  w.add_tensor("x", GgmlType::F32, {4, 2}, std::vector<uint8_t>(32, 1));
  w.add_tensor("y", GgmlType::Q4_0, {64}, std::vector<uint8_t>(36, 2));
  w.add_tensor("z", GgmlType::F16, {3}, std::vector<uint8_t>(6, 3));
  const std::string path = tmp_path("mut.gguf");
  w.write(path);
  const std::vector<uint8_t> good = read_all(path);
  std::remove(path.c_str());
  ASSERT_NO_THROW(GgufFile::from_bytes(good.data(), good.size()));

  std::mt19937_64 rng(1234);
  int errors = 0, parsed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> m = good;
    const int kind = static_cast<int>(rng() % 4);
    const size_t at = rng() % m.size();
    if (kind == 0) {
      m[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
    } else if (kind == 1) {  // a random 64-bit value (lying counts and lengths)
      uint64_t v = rng() >> (rng() % 64);
      std::memcpy(m.data() + at, &v, std::min<size_t>(8, m.size() - at));
    } else if (kind == 2) {
      m.resize(at);
    } else {  // a small count bumped by one
      m[at] = static_cast<uint8_t>(m[at] + 1);
    }
    try {
      GgufFile g = GgufFile::from_bytes(m.data(), m.size());
      touch_all(g);
      ++parsed;
    } catch (const GgufError&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 5000);
  EXPECT_GT(parsed, 100);
}

TEST(GgufWriter, RoundTripsEveryValueTypeAndTensor) {
  GgufWriter w;
  w.set_u8("k.u8", 200);
  w.set_i8("k.i8", -100);
  w.set_u16("k.u16", 60000);
  w.set_i16("k.i16", -30000);
  w.set_u32("k.u32", 4000000000u);
  w.set_i32("k.i32", -2000000000);
  w.set_u64("k.u64", 1ull << 60);
  w.set_i64("k.i64", -(1ll << 60));
  w.set_f32("k.f32", 1.25f);
  w.set_f64("k.f64", -2.5);
  w.set_bool("k.bool", true);
  w.set_string("k.str", std::string("h\0llo", 5));
  w.set_string_array("k.strs", {"", "x", "yz"});
  w.set_int32_array("k.ints", {-5, 0, 7});
  w.set_f32_array("k.floats", {1.5f, -2.0f});
  w.set_string("k.str", "replaced");  // same key again: replaced in place
  std::vector<float> vals(256);
  for (int i = 0; i < 256; ++i) vals[static_cast<size_t>(i)] = std::sin(0.1f * i);
  std::vector<uint8_t> q4k(144);
  quantize_row(GgmlType::Q4_K, vals.data(), q4k.data(), 256);
  w.add_tensor("t.f32", GgmlType::F32, {256}, vals.data(), vals.size() * 4);
  w.add_tensor("t.q4k", GgmlType::Q4_K, {256}, q4k);
  w.add_tensor_lazy("t.lazy", GgmlType::F32, {3, 5}, [](void* dst, size_t n) {
    for (size_t i = 0; i < n / 4; ++i) static_cast<float*>(dst)[i] = static_cast<float>(i);
  });
  EXPECT_THROW(w.add_tensor("t.f32", GgmlType::F32, {1}, std::vector<uint8_t>(4)),
               std::invalid_argument);
  EXPECT_THROW(w.add_tensor("bad", GgmlType::Q4_0, {33}, std::vector<uint8_t>(18)),
               std::invalid_argument);
  for (uint32_t version : {2u, 3u}) {
    w.set_version(version);
    const std::string path = tmp_path("rt.gguf");
    w.write(path);
    GgufFile g = GgufFile::open(path);
    EXPECT_EQ(g.version(), version);
    EXPECT_EQ(g.get_uint("k.u8"), 200u);
    EXPECT_EQ(g.get_int("k.i8"), -100);
    EXPECT_EQ(g.get_uint("k.u16"), 60000u);
    EXPECT_EQ(g.get_int("k.i16"), -30000);
    EXPECT_EQ(g.get_uint("k.u32"), 4000000000u);
    EXPECT_EQ(g.get_int("k.i32"), -2000000000);
    EXPECT_EQ(g.get_uint("k.u64"), 1ull << 60);
    EXPECT_EQ(g.get_int("k.i64"), -(1ll << 60));
    EXPECT_THROW(g.get_uint("k.i64"), GgufError);  // negative
    EXPECT_EQ(g.get_float("k.f32"), 1.25);
    EXPECT_EQ(g.get_float("k.f64"), -2.5);
    EXPECT_EQ(g.get_bool("k.bool"), true);
    EXPECT_EQ(g.get_string("k.str"), "replaced");
    EXPECT_EQ(g.get_string_array("k.strs"), (std::vector<std::string>{"", "x", "yz"}));
    EXPECT_EQ(g.get_int_array("k.ints"), (std::vector<int64_t>{-5, 0, 7}));
    EXPECT_EQ(g.get_float_array("k.floats"), (std::vector<double>{1.5, -2.0}));
    EXPECT_EQ(g.get_uint("general.alignment"), 32u);  // added by the writer
    ASSERT_EQ(g.tensors().size(), 3u);
    const auto* t = g.tensor("t.q4k");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data) % 32, 0u);
    EXPECT_EQ(std::memcmp(t->data, q4k.data(), 144), 0);
    EXPECT_EQ(std::memcmp(g.tensor("t.f32")->data, vals.data(), 1024), 0);
    const auto* lz = g.tensor("t.lazy");
    EXPECT_EQ(lz->dims, (std::vector<int64_t>{3, 5}));
    EXPECT_EQ(static_cast<const float*>(lz->data)[14], 14.0f);
    std::remove(path.c_str());
  }
}

TEST(GgufWriter, CopyKeyCopiesTheTypesQwen3FilesHoldAndRefusesOthers) {
  GgufWriter w;
  w.set_string("k.str", "qwen3");
  w.set_f32("k.f32", 1e-6f);
  w.set_bool("k.bool", false);
  w.set_u32("k.u32", 151936);
  w.set_string_array("k.strs", {"a", "", "<|im_end|>"});
  w.set_int32_array("k.ints", {1, -2, 3});
  w.set_u64("k.u64", 7);
  w.set_f32_array("k.floats", {0.5f});
  const std::string src = tmp_path("copy_src.gguf"), dst = tmp_path("copy_dst.gguf");
  w.write(src);
  GgufFile f = GgufFile::open(src);
  GgufWriter c;
  std::vector<std::string> refused;
  for (const auto& k : f.keys())
    if (!c.copy_key(f, k)) refused.push_back(k);
  EXPECT_EQ(refused, (std::vector<std::string>{"k.u64", "k.floats"}));
  EXPECT_FALSE(c.copy_key(f, "no.such.key"));
  c.write(dst);
  GgufFile g = GgufFile::open(dst);
  EXPECT_EQ(g.get_string("k.str"), "qwen3");
  EXPECT_EQ(g.get_float("k.f32"), static_cast<double>(1e-6f));
  EXPECT_EQ(g.get_bool("k.bool"), false);
  EXPECT_EQ(g.type_of("k.u32"), ValueType::UINT32);
  EXPECT_EQ(g.get_uint("k.u32"), 151936u);
  EXPECT_EQ(g.get_string_array("k.strs"), (std::vector<std::string>{"a", "", "<|im_end|>"}));
  EXPECT_EQ(g.array_type_of("k.ints"), ValueType::INT32);
  EXPECT_EQ(g.get_int_array("k.ints"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_FALSE(g.type_of("k.u64").has_value());
  std::remove(src.c_str());
  std::remove(dst.c_str());
}

TEST(GgufReader, OpenReportsMissingAndEmptyFiles) {
  EXPECT_THROW(GgufFile::open(tmp_path("does-not-exist.gguf")), std::runtime_error);
  const std::string empty = tmp_path("empty.gguf");
  std::fclose(std::fopen(empty.c_str(), "wb"));
  EXPECT_THROW(GgufFile::open(empty), GgufError);
  std::remove(empty.c_str());
}

}  // namespace
}  // namespace qwen3::gguf
