// Model references on the command line: `-m hf://ORG/NAME[:QUANT]`, `-m qwen3:8b` and
// llama.cpp's `-hf ORG/NAME[:QUANT]` are downloaded (or found in the cache) before a
// command parses its arguments, and replaced by the local file's path, so every command
// that takes -m accepts them without code of its own.
#pragma once

#include <string>
#include <vector>

#include "hub/hub_client.h"

namespace qwen3::cli {

// A Hub client from the environment with a progress line on stderr.
hub::HubClient make_hub_client();

// Resolves a model reference to a local path (downloading if needed).
std::string resolve_model_ref(const std::string& ref, bool bare_repo);

// Rewrites argv: each model reference given to -m/--model (or -hf/--hf-repo) becomes
// `-m LOCAL_PATH`. Leaves everything else as it is; does nothing when --help is asked.
std::vector<std::string> resolve_model_args(const std::vector<std::string>& args);

}  // namespace qwen3::cli
