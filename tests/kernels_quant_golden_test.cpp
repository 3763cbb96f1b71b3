// Bit-exactness against ggml itself: tests/golden/ggml_quants.bin holds seeded rows
// (gaussian, outliers, sparse, one-signed, zero sub-blocks), the bytes ggml's
// ggml_quantize_chunk wrote for every weight type and the floats its dequantizer
// returned (regenerate: tools/ggml_golden/regenerate.sh).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "kernels/quant.h"

namespace qwen3 {
namespace {

struct Golden {
  uint32_t rows = 0, cols = 0;
  std::vector<float> x;
  struct Entry {
    GgmlType type;
    std::vector<uint8_t> q;
    std::vector<float> deq;
  };
  std::vector<Entry> entries;
};

Golden load() {
  std::ifstream f(QWEN3_SOURCE_DIR "/tests/golden/ggml_quants.bin", std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  auto take = [&](void* dst, size_t n) {
    if (pos + n > b.size()) throw std::runtime_error("golden file truncated");
    std::memcpy(dst, b.data() + pos, n);
    pos += n;
  };
  auto u32 = [&] {
    uint32_t v;
    take(&v, 4);
    return v;
  };
  Golden g;
  char magic[4];
  take(magic, 4);
  if (std::memcmp(magic, "QGLD", 4) != 0) throw std::runtime_error("bad golden magic");
  g.rows = u32();
  g.cols = u32();
  const size_t n = static_cast<size_t>(g.rows) * g.cols;
  g.x.resize(n);
  take(g.x.data(), n * 4);
  const uint32_t n_types = u32();
  for (uint32_t k = 0; k < n_types; ++k) {
    Golden::Entry e;
    e.type = static_cast<GgmlType>(u32());
    e.q.resize(u32());
    take(e.q.data(), e.q.size());
    e.deq.resize(n);
    take(e.deq.data(), n * 4);
    g.entries.push_back(std::move(e));
  }
  return g;
}

TEST(QuantGolden, MatchesGgmlBitForBit) {
  const Golden g = load();
  ASSERT_EQ(g.entries.size(), 10u);
  for (const auto& e : g.entries) {
    const char* name = ggml_type_info(e.type).name.data();
    const size_t rs = ggml_row_size(e.type, g.cols);
    ASSERT_EQ(e.q.size(), rs * g.rows) << name;
    std::vector<uint8_t> q(e.q.size());
    std::vector<float> deq(g.x.size()), deq_ref(g.x.size());
    for (uint32_t r = 0; r < g.rows; ++r) {
      quantize_row(e.type, g.x.data() + r * g.cols, q.data() + r * rs, g.cols);
      dequantize_row(e.type, e.q.data() + r * rs, deq.data() + r * g.cols, g.cols);
      dequantize_row_ref(e.type, e.q.data() + r * rs, deq_ref.data() + r * g.cols, g.cols);
    }
    for (uint32_t r = 0; r < g.rows; ++r)
      EXPECT_EQ(std::memcmp(q.data() + r * rs, e.q.data() + r * rs, rs), 0)
          << name << " row " << r << " differs from ggml";
    EXPECT_EQ(std::memcmp(deq.data(), e.deq.data(), deq.size() * 4), 0) << name;
    EXPECT_EQ(std::memcmp(deq_ref.data(), e.deq.data(), deq.size() * 4), 0) << name;
  }
}

}  // namespace
}  // namespace qwen3
