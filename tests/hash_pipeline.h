// A Pipeline over the hash-chain backend (engine_test_backend.h, no weights) for the tests of
// what the Pipeline feeds a model (pipeline_injection_test, pipeline_template_test): each
// call registers its own backend name bound to the given tokenizer, and the backend it made
// last stays reachable so a test can read the token ids it was fed; plus the one-token
// generation config those tests prompt with.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "engine/backend.h"
#include "engine_test_backend.h"
#include "qwen3/pipeline.h"
#include "text/tokenizer.h"

namespace qwen3::test {

// The backend the last hash_pipeline made (nullptr before the first).
inline engine::testing::HashChainBackend*& last_hash_backend() {
  static engine::testing::HashChainBackend* last = nullptr;
  return last;
}

// `tok` must outlive the Pipeline. No KV reuse: every generate feeds its whole prompt.
inline Pipeline hash_pipeline(const Tokenizer& tok, Properties extra = {}) {
  static int n = 0;  // one backend name per call: a name is registered once
  const std::string name = "hash-pipeline-" + std::to_string(++n);
  const Tokenizer* t = &tok;
  engine::register_backend(name, [t](const engine::BackendOptions& o) {
    auto b = std::make_unique<engine::testing::HashChainBackend>(
        t->n_vocab(), o.n_ctx ? o.n_ctx : 4096, *t, /*kv_reuse=*/false);
    last_hash_backend() = b.get();
    return std::unique_ptr<engine::Backend>(std::move(b));
  });
  extra["backend"] = name;
  return Pipeline("unused", "CPU", extra);
}

// One token, seed 1, end-of-sequence ignored: a generate call that only shows the prompt.
inline GenerationConfig one_token_config() {
  GenerationConfig c;
  c.max_new_tokens = 1;
  c.min_reply_tokens = 1;
  c.seed = 1;
  c.ignore_eos = true;
  return c;
}

}  // namespace qwen3::test
