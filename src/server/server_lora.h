// The server's LoRA adapters, as llama-server has them: the adapters `serve --lora` loaded,
// with ids 0..n-1 in the order given, and their global scales (GET / POST /lora-adapters).
// A request's "lora": [{"id", "scale"}] runs that request alone with those scales (ids
// not listed: scale 0, as in llama-server); without it the request runs with the global
// scales. Either way the result is the AdapterConfig its slot's Pipeline is set to before
// generating (BatchEngine::set_lora keys the prefix cache by the adapters and scales).
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "qwen3/adapter_config.h"
#include "server/generation_job.h"
#include "server/json_fields.h"

namespace qwen3::server {

class ServerLora {
 public:
  // The adapters of the Pipeline property "lora" (empty: the server has none).
  explicit ServerLora(const AdapterConfig& loaded) : adapters_(loaded) {}

  bool empty() const { return adapters_.empty(); }
  std::size_t size() const { return adapters_.adapters.size(); }

  // [{"id", "path", "scale"}] with the global scales.
  Json list() const;
  // POST /lora-adapters: the body [{"id", "scale"}] sets the global scales (ids not
  // listed: 0). Throws ApiError 400 (unknown or duplicate id, bad scale, bad shape).
  void set_scales(const Json& body);

  // The adapters request `body` runs with: its "lora" field if given, else the global
  // scales. Throws ApiError 400 for a bad "lora" field (also when the server has no
  // adapters and the field lists one).
  AdapterConfig for_request(const Json& body) const;

  // Scales of a [{"id", "scale"}] array for the n adapters (others 0); `field` names the
  // array in error messages ("lora", or "" for a POST body). Throws ApiError 400.
  std::vector<float> parse_scales(const Json& list, const std::string& field) const;

 private:
  mutable std::mutex mu_;
  AdapterConfig adapters_;  // paths and the global scales
};

// The slot affinity prefix of a request's adapters: requests with other adapters or
// scales do not share KV blocks, so they should not be steered to each other's slots.
std::string lora_affinity(const AdapterConfig& adapters);

// A request's generation run with `adapters`: the slot's Pipeline is set to them first
// (a no-op when they are what its sequence already runs). `body` unchanged when empty
// (the server has no adapters).
Generation::Body with_adapters(AdapterConfig adapters, Generation::Body body);

}  // namespace qwen3::server
