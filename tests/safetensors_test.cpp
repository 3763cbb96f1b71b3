// Safetensors reader: round trips over many generated files, and malformed files
// (hand-made and generated corruptions) that must give a SafetensorsError, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "convert/hf_checkpoint_writer.h"
#include "model/safetensors.h"
#include "model/safetensors_checkpoint.h"
#include "shape_util.h"

namespace qwen3::hf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

// A safetensors image from a header text and a data section of data_size bytes.
std::vector<uint8_t> image(const std::string& header, size_t data_size, uint64_t len_override = 0) {
  std::vector<uint8_t> b(8);
  const uint64_t n = len_override ? len_override : header.size();
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(n >> (8 * i));
  b.insert(b.end(), header.begin(), header.end());
  b.resize(b.size() + data_size, 0x5a);
  return b;
}

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("qwen3_st_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void expect_error(const std::vector<uint8_t>& b, const std::string& needle) {
  try {
    parse_safetensors(b.data(), b.size(), "t.safetensors");
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("t.safetensors"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, RoundTripsGeneratedFiles) {
  const fs::path dir = temp_dir("roundtrip");
  std::mt19937 rng(7);
  const GgmlType types[] = {GgmlType::F32, GgmlType::F16, GgmlType::BF16};
  for (int file = 0; file < 40; ++file) {
    std::vector<SafetensorsSpec> specs;
    std::vector<std::vector<uint8_t>> payloads;
    const int n = 1 + rng() % 6;
    for (int i = 0; i < n; ++i) {
      SafetensorsSpec s;
      s.name = "t" + std::to_string(i) + (i % 2 ? ".weight" : "");
      s.type = types[rng() % 3];
      const int rank = rng() % 4;  // rank 0 = scalar
      for (int r = 0; r < rank; ++r) s.shape.push_back(rng() % 5);
      size_t bytes = s.type == GgmlType::F32 ? 4 : 2;
      for (auto d : s.shape) bytes *= static_cast<size_t>(d);
      std::vector<uint8_t> payload(bytes);
      for (auto& x : payload) x = static_cast<uint8_t>(rng());
      payloads.push_back(payload);
      s.fill = [payload](void* dst, size_t nb) {
        ASSERT_EQ(nb, payload.size());
        if (nb) std::memcpy(dst, payload.data(), nb);
      };
      specs.push_back(s);
    }
    const fs::path p = dir / ("f" + std::to_string(file) + ".safetensors");
    write_safetensors(p.string(), specs, {{"format", "pt"}});
    const auto f = SafetensorsFile::open(p.string());
    ASSERT_EQ(f.tensors().size(), specs.size());
    EXPECT_EQ(f.metadata().at("format"), "pt");
    for (size_t i = 0; i < specs.size(); ++i) {
      const SafetensorsTensor* t = f.find(specs[i].name);
      ASSERT_NE(t, nullptr) << specs[i].name;
      EXPECT_EQ(t->type, specs[i].type);
      EXPECT_EQ(t->shape, specs[i].shape);
      ASSERT_EQ(t->nbytes(), payloads[i].size());
      if (t->nbytes()) {
        EXPECT_EQ(std::memcmp(t->data, payloads[i].data(), t->nbytes()), 0);
      }
      std::vector<int64_t> rev(specs[i].shape.rbegin(), specs[i].shape.rend());
      EXPECT_EQ(t->gguf_dims(), rev);
    }
    EXPECT_EQ(f.find("absent"), nullptr);
  }
  fs::remove_all(dir);
}

TEST(Safetensors, RejectsHandMadeCorruptions) {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_NO_THROW(parse_safetensors(image(ok, 8).data(), 8 + ok.size() + 8));

  std::vector<uint8_t> tiny = {1, 2, 3};
  expect_error(tiny, "too small");
  expect_error(image(ok, 8, 1ull << 40), "exceeds");
  expect_error(image(ok, 8, ok.size() + 100), "past the end");
  expect_error(image(ok, 8, 1), "too small");
  expect_error(image(" " + ok, 8), "start with '{'");
  expect_error(image(R"({"a":)", 8), "not valid JSON");
  expect_error(image("[1,2]", 8), "start with '{'");
  expect_error(image(R"({"a":[1]})", 8), "must be an object");
  expect_error(image(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8), "dtype");
  expect_error(image(R"({"a":{"dtype":"I8","shape":[8],"data_offsets":[0,8]}})", 8),
               "unsupported dtype 'I8'");
  expect_error(image(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8), "shape");
  expect_error(image(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "shape");
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8), "shape");
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "data_offsets");
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8), "data_offsets");
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8),
               "begin > end");
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", 8),
               "past the end");
  expect_error(image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
               "shape x dtype");
  expect_error(
      image(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", 8),
      "too large");
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                     R"("b":{"dtype":"F16","shape":[4],"data_offsets":[4,12]}})",
                     16),
               "overlap");
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                     R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                     16),
               "appears twice");
  expect_error(image(R"({"__metadata__":{"k":1}})", 0), "not a string");
  expect_error(image(R"({"__metadata__":[1]})", 0), "__metadata__");
  expect_error(image(R"({"a":{"dtype":"F32","shape":[[[[[[1]]]]]],"data_offsets":[0,4]}})", 4),
               "nested too deeply");
  expect_error(image(R"({"":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8), "empty name");
}

// Every prefix of a valid file and many random byte changes: an error or a file whose
// tensors all lie inside the buffer, never a crash.
TEST(Safetensors, SurvivesGeneratedCorruptions) {
  const fs::path dir = temp_dir("corrupt");
  std::vector<SafetensorsSpec> specs = {
      {"model.embed_tokens.weight", GgmlType::BF16, {8, 4}, nullptr},
      {"model.norm.weight", GgmlType::F32, {4}, nullptr},
      {"lm_head.weight", GgmlType::F16, {8, 4}, nullptr}};
  write_safetensors((dir / "ok.safetensors").string(), specs, {{"format", "pt"}});
  const std::vector<uint8_t> good = read_all(dir / "ok.safetensors");
  ASSERT_NO_THROW(parse_safetensors(good.data(), good.size()));

  auto check = [&](const std::vector<uint8_t>& b) {
    try {
      auto h = parse_safetensors(b.data(), b.size());
      for (const auto& t : h.tensors) {
        ASSERT_GE(t.data, b.data());
        ASSERT_LE(t.data + t.nbytes(), b.data() + b.size());
      }
    } catch (const SafetensorsError& e) {
      EXPECT_GT(std::strlen(e.what()), 0u);
    }
  };
  size_t errors = 0;
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> b(good.begin(), good.begin() + n);
    try {
      parse_safetensors(b.data(), b.size());
    } catch (const SafetensorsError&) {
      ++errors;
    }
  }
  // Every strict prefix loses data the header promises.
  EXPECT_EQ(errors, good.size());

  std::mt19937 rng(123);
  const size_t header_end = 8 + (good[0] | (good[1] << 8));
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> b = good;
    const int flips = 1 + rng() % 4;
    for (int f = 0; f < flips; ++f) {
      const size_t at = rng() % header_end;  // mostly the length and the JSON
      switch (rng() % 3) {
        case 0:
          b[at] = static_cast<uint8_t>(rng());
          break;
        case 1:
          b[at] = "{}[]\",:0123456789-.e"[rng() % 21];
          break;
        default:
          b.erase(b.begin() + at);
          break;
      }
    }
    check(b);
  }
  fs::remove_all(dir);
}

TEST(SafetensorsCheckpoint, OpensShardedAndSingleFiles) {
  const HfModelConfig c = test::hf_shape({2, 8, 2, 1, 4, 16, 32, 64});
  for (int shards : {1, 3}) {
    const fs::path dir = temp_dir("ck" + std::to_string(shards));
    RandomCheckpointOptions o;
    o.n_shards = shards;
    write_random_hf_checkpoint(dir.string(), c, o);
    const auto ck = SafetensorsCheckpoint::open(dir.string());
    EXPECT_EQ(ck.shards().size(), static_cast<size_t>(shards));
    const auto shapes = qwen3_hf_tensor_shapes(c);
    EXPECT_EQ(ck.names().size(), shapes.size());
    for (const auto& [name, shape] : shapes) {
      const SafetensorsTensor* t = ck.find(name);
      ASSERT_NE(t, nullptr) << name;
      EXPECT_EQ(t->shape, shape);
      EXPECT_EQ(t->type, GgmlType::BF16);
    }
    EXPECT_THROW(ck.at("nope"), SafetensorsError);
    fs::remove_all(dir);
  }
}

TEST(SafetensorsCheckpoint, RejectsBadIndexes) {
  const HfModelConfig c = test::hf_shape({1, 8, 2, 2, 4, 8, 16, 64});
  const fs::path dir = temp_dir("badindex");
  RandomCheckpointOptions o;
  o.n_shards = 2;
  write_random_hf_checkpoint(dir.string(), c, o);
  const fs::path index = dir / "model.safetensors.index.json";
  const json good = json::parse(read_all(index));
  auto with_index = [&](const json& j, const std::string& needle) {
    std::ofstream(index) << j.dump();
    try {
      SafetensorsCheckpoint::open(dir.string());
      ADD_FAILURE() << "no error for " << needle;
    } catch (const SafetensorsError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  json j = good;
  j["weight_map"]["model.norm.weight"] = "../../etc/passwd";
  with_index(j, "beside the index");
  j = good;
  j["weight_map"]["model.extra.weight"] = "model-00001-of-00002.safetensors";
  with_index(j, "model.extra.weight");
  j = good;
  j["weight_map"].erase("model.norm.weight");
  with_index(j, "missing from weight_map");
  j = good;
  j["weight_map"]["model.norm.weight"] = "model-00009-of-00009.safetensors";
  with_index(j, "missing");
  j = good;
  j["weight_map"] = json::array();
  with_index(j, "weight_map");
  std::ofstream(index) << "{not json";
  EXPECT_THROW(SafetensorsCheckpoint::open(dir.string()), SafetensorsError);
  EXPECT_THROW(SafetensorsCheckpoint::open((dir / "nothing_here").string()), SafetensorsError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qwen3::hf
