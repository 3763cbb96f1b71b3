// N Pipelines over one model: the native CPU backend loads and repacks the model once
// and gives every Pipeline one sequence of a shared BatchEngine (its own KV cache, its
// forward passes batched with the others'). Other backends (replay, OpenVINO) cannot share
// a model: they get N independent Pipelines as before.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/batch_engine.h"
#include "qwen3/pipeline.h"

namespace qwen3::engine {

struct SharedPipelines {
  std::shared_ptr<BatchEngine> engine;  // null for backends that cannot batch
  std::vector<std::unique_ptr<Pipeline>> pipelines;
};

// How the shared engine's KV pool is laid out.
struct KvPoolOptions {
  int kv_size = 0;           // positions in the pool; 0 = n * n_ctx
  bool prefix_cache = true;  // share full blocks between requests by token prefix
};

// `props` as for Pipeline (n_ctx is the most one sequence holds). max_batch_tokens: tokens
// per forward step (0 = BatchEngineOptions' default, at least n).
SharedPipelines make_shared_pipelines(const std::string& model_path, const std::string& device,
                                      const Properties& props, int n, int max_batch_tokens = 0,
                                      const KvPoolOptions& kv = {});

}  // namespace qwen3::engine
