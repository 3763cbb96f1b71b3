// A token-level backend for engine tests whose logits are a hash of every token in its
// cache: the same cache contents always give the same logits, and any cache bookkeeping
// error (a missed truncate, a token fed twice) changes them. Counts evaluated tokens so
// tests can prove what was prefilled.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "text/tokenizer.h"

namespace qwen3::engine::testing {

class HashChainBackend : public TokenBackend {
 public:
  HashChainBackend(int n_vocab, int n_ctx, Tokenizer tok = Tokenizer(), bool kv_reuse = true)
      : n_vocab_(n_vocab),
        n_ctx_(n_ctx),
        tok_(std::move(tok)),
        kv_reuse_(kv_reuse),
        logits_(n_vocab) {}

  BackendCapabilities capabilities() const override {
    return {"hash-chain", "CPU", kv_reuse_, static_cast<std::size_t>(n_ctx_)};
  }
  const Tokenizer& tokenizer() const override { return tok_; }
  int n_ctx() const override { return n_ctx_; }
  int n_past() const override { return static_cast<int>(ids_.size()); }
  int n_vocab() const override { return n_vocab_; }
  void truncate(int n) override {
    if (n < 0 || n > n_past()) throw std::out_of_range("truncate beyond the cache");
    ids_.resize(n);
  }
  const float* eval(const std::int32_t* ids, int n) override {
    if (n <= 0) throw std::invalid_argument("eval of no tokens");
    if (n_past() + n > n_ctx_) throw std::length_error("context full");
    for (int i = 0; i < n; ++i) {
      if (ids[i] < 0 || ids[i] >= n_vocab_) throw std::invalid_argument("bad id");
      ids_.push_back(ids[i]);
    }
    evaluated_ += n;
    ++calls_;
    fill();
    return logits_.data();
  }

  // The logits a cold cache holding exactly `seq` would give.
  std::vector<float> logits_for(const std::vector<std::int32_t>& seq) const {
    HashChainBackend cold(n_vocab_, n_ctx_);
    cold.eval(seq.data(), static_cast<int>(seq.size()));
    return cold.logits_;
  }

  std::size_t evaluated() const { return evaluated_; }
  std::size_t calls() const { return calls_; }
  const std::vector<std::int32_t>& ids() const { return ids_; }
  const std::vector<float>& last_logits() const { return logits_; }

 private:
  static std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  void fill() {
    std::uint64_t h = 0x1234;
    for (auto id : ids_) h = mix(h ^ static_cast<std::uint64_t>(id));
    for (int v = 0; v < n_vocab_; ++v)
      logits_[v] = static_cast<float>(mix(h + static_cast<std::uint64_t>(v)) >> 40) / 1048576.0f;
  }

  int n_vocab_, n_ctx_;
  Tokenizer tok_;
  bool kv_reuse_;
  std::vector<float> logits_;
  std::vector<std::int32_t> ids_;
  std::size_t evaluated_ = 0, calls_ = 0;
};

}  // namespace qwen3::engine::testing
