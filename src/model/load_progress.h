// Progress of the long steps of a model load (quantizing a Hugging Face folder's tensors
// with --quantize, repacking the matrices into the interleaved layout), reported to one
// process-wide callback so a command can draw it without the loader knowing about
// terminals or log formats. With no callback set nothing is reported.
#pragma once

#include <cstddef>
#include <functional>

namespace qwen3 {

// `step` is "quantizing" or "repacking"; `done` of `total` units (tensors, matrices),
// called with done == total when the step ends. May be called from the loading thread.
using LoadProgressFn = std::function<void(const char* step, std::size_t done, std::size_t total)>;

void set_load_progress(LoadProgressFn fn);  // replaces the callback; nullptr = none
void report_load_progress(const char* step, std::size_t done, std::size_t total);

}  // namespace qwen3
