// qwen3::Properties: the construction options of a Pipeline (and of the backends behind
// it), as name -> string. The names and values are documented where they are read: the
// Pipeline constructor in qwen3/pipeline.h. A header of its own so that the engine's
// backend interface needs no part of the public Pipeline API.
#pragma once

#include <map>
#include <string>

namespace qwen3 {

using Properties = std::map<std::string, std::string>;

}  // namespace qwen3
