// splitmix64's finalizer: a 64-bit mix in which every input bit reaches every output bit.
// The one hash step behind the KV prefix-cache block hashes, the image token ids and the
// tokenizer's flat hash tables (not a cryptographic hash).
#pragma once

#include <cstdint>

namespace qwen3 {

inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace qwen3
