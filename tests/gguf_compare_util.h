// Test helpers that compare two GGUF files key by key and tensor by tensor: a converter's
// output against the file generated directly from the same weights.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"

namespace qwen3::test {

// The keys of a and b, but those in `skip`, have the same names (sorted), types and values.
inline void expect_same_keys(const gguf::GgufFile& a, const gguf::GgufFile& b,
                             const std::set<std::string>& skip) {
  auto keys = [&](const gguf::GgufFile& f) {
    std::vector<std::string> k;
    for (const auto& x : f.keys())
      if (!skip.count(x)) k.push_back(x);
    std::sort(k.begin(), k.end());
    return k;
  };
  ASSERT_EQ(keys(a), keys(b));
  for (const std::string& k : keys(a)) {
    ASSERT_EQ(a.type_of(k), b.type_of(k)) << k;
    switch (*a.type_of(k)) {
      case gguf::ValueType::STRING:
        EXPECT_EQ(a.get_string(k), b.get_string(k)) << k;
        break;
      case gguf::ValueType::BOOL:
        EXPECT_EQ(a.get_bool(k), b.get_bool(k)) << k;
        break;
      case gguf::ValueType::FLOAT32:
        EXPECT_EQ(a.get_float(k), b.get_float(k)) << k;
        break;
      case gguf::ValueType::ARRAY:
        ASSERT_EQ(a.array_type_of(k), b.array_type_of(k)) << k;
        if (a.array_type_of(k) == gguf::ValueType::STRING)
          EXPECT_EQ(a.get_string_array(k), b.get_string_array(k)) << k;
        else if (a.array_type_of(k) == gguf::ValueType::FLOAT32)
          EXPECT_EQ(a.get_float_array(k), b.get_float_array(k)) << k;
        else
          EXPECT_EQ(a.get_int_array(k), b.get_int_array(k)) << k;
        break;
      default:
        EXPECT_EQ(a.get_uint(k), b.get_uint(k)) << k;
    }
  }
}

// The same tensors (name, type, dims, bytes); with `same_order`, also at the same index.
inline void expect_same_tensors(const gguf::GgufFile& a, const gguf::GgufFile& b,
                                bool same_order = false) {
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (std::size_t i = 0; i < a.tensors().size(); ++i) {
    const auto& x = a.tensors()[i];
    if (same_order) {
      ASSERT_EQ(x.name, b.tensors()[i].name);
    }
    const gguf::TensorInfo* y = same_order ? &b.tensors()[i] : b.tensor(x.name);
    ASSERT_NE(y, nullptr) << x.name;
    EXPECT_EQ(x.type, y->type) << x.name;
    EXPECT_EQ(x.dims, y->dims) << x.name;
    ASSERT_EQ(x.nbytes, y->nbytes) << x.name;
    EXPECT_EQ(std::memcmp(x.data, y->data, x.nbytes), 0) << x.name;
  }
}

}  // namespace qwen3::test
