// Shared by the tests that run small random-weight GGUF models in process (forward_test,
// moe_test, decode_alloc_test): the real tokenizer, parsed once and shared by every model
// (parsing it per model would dominate the test time; Qwen3Model::load itself is covered by
// model_test), loading a GGUF with it, the small shape every block format fits (rows of 256
// and 512, vocabulary cut to 1024 rows), random token ids, logits of a whole prompt at once
// or token by token through the KV cache, and the relative errors the tolerances are
// stated in. One copy, so the tests compare the engine against the reference the same way.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "model/gguf_tensor_source.h"
#include "model/qwen3_model.h"
#include "shape_util.h"
#include "text/tokenizer.h"

namespace qwen3::test {

inline std::shared_ptr<const Tokenizer> real_tokenizer() {
  static const auto tok = std::make_shared<const Tokenizer>(
      Tokenizer::from_file(std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer.json"));
  return tok;
}

// A generated model sharing the one tokenizer.
inline std::shared_ptr<Qwen3Model> load_model(const std::string& path) {
  auto file = std::make_shared<const gguf::GgufFile>(gguf::GgufFile::open(path));
  return Qwen3Model::from_source(Qwen3Config::from_gguf(*file), real_tokenizer(),
                                 std::make_shared<GgufTensorSource>(file));
}

// The small dense shape: 2 blocks of 256 (4 heads of 64, 2 KV heads), FFN 512, 1024 tokens.
inline void set_small_shape(Qwen3Config& c, int n_ctx_train = 512) {
  set_shape(c, {2, 256, 4, 2, 64, 512, 1024, n_ctx_train});
}

inline std::vector<int32_t> random_ids(int n, int vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint64_t>(vocab));
  return ids;
}

// max|a - ref| / max|ref|.
inline double rel_error(const float* a, const float* ref, size_t n) {
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < n; ++i) {
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(a[i]) - ref[i]));
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
  }
  return max_diff / std::max(max_ref, 1e-30);
}
inline double rel_error(const std::vector<float>& a, const std::vector<float>& ref) {
  return rel_error(a.data(), ref.data(), ref.size());
}

// rms(a - ref) / rms(ref).
inline double rms_rel_error(const std::vector<float>& a, const std::vector<float>& ref) {
  double d = 0, r = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    d += (static_cast<double>(a[i]) - ref[i]) * (static_cast<double>(a[i]) - ref[i]);
    r += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(d / std::max(r, 1e-30));
}

// The logits of every position of `ids`, evaluated in one call (a 512-token context).
inline std::vector<float> prefill_logits(const std::shared_ptr<Qwen3Model>& m,
                                         const std::vector<int32_t>& ids, KvType kv, int threads) {
  InferenceContext ctx(m, 512, kv, threads);
  std::vector<float> logits(ids.size() * static_cast<size_t>(m->config().n_vocab));
  ctx.eval(ids.data(), static_cast<int>(ids.size()), logits.data(), true);
  return logits;
}

// The same logits, one token per call through the KV cache.
inline std::vector<float> token_by_token_logits(const std::shared_ptr<Qwen3Model>& m,
                                                const std::vector<int32_t>& ids, KvType kv,
                                                int threads) {
  InferenceContext ctx(m, 512, kv, threads);
  const size_t V = static_cast<size_t>(m->config().n_vocab);
  std::vector<float> logits(ids.size() * V);
  for (size_t t = 0; t < ids.size(); ++t) ctx.eval(&ids[t], 1, logits.data() + t * V);
  return logits;
}

}  // namespace qwen3::test
