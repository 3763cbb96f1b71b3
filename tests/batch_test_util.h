// Shared by the tests that hold a BatchEngine to a sequence run alone (batch_engine_test,
// kv_q8_test): the logits of a prompt and of each token after it, from an InferenceContext
// of its own and from one sequence slot of an engine. One copy, so every such test
// compares the same way (the logits after the prompt, then one row per following token).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/batch_engine.h"
#include "model/inference_context.h"
#include "model/qwen3_model.h"

namespace qwen3::test {

// ids[0..prompt) in one eval, then ids[prompt..] one at a time, alone (a 512-position cache).
inline std::vector<std::vector<float>> logits_alone(const std::shared_ptr<const Qwen3Model>& m,
                                                    const std::vector<std::int32_t>& ids,
                                                    int prompt, KvType kv, int threads) {
  InferenceContext ctx(m, 512, kv, threads);
  const std::size_t V = static_cast<std::size_t>(m->config().n_vocab);
  std::vector<std::vector<float>> out;
  std::vector<float> l(V);
  ctx.eval(ids.data(), prompt, l.data());
  out.push_back(l);
  for (std::size_t t = static_cast<std::size_t>(prompt); t < ids.size(); ++t) {
    ctx.eval(&ids[t], 1, l.data());
    out.push_back(l);
  }
  return out;
}

// The same on sequence s of an engine, which is released after.
inline std::vector<std::vector<float>> logits_on_engine(engine::BatchEngine& e, int s,
                                                        const std::vector<std::int32_t>& ids,
                                                        int prompt) {
  const std::size_t V = static_cast<std::size_t>(e.n_vocab());
  std::vector<std::vector<float>> out;
  const float* l = e.eval(s, ids.data(), prompt);
  out.emplace_back(l, l + V);
  for (std::size_t t = static_cast<std::size_t>(prompt); t < ids.size(); ++t) {
    l = e.eval(s, &ids[t], 1);
    out.emplace_back(l, l + V);
  }
  e.release(s);
  return out;
}

}  // namespace qwen3::test
