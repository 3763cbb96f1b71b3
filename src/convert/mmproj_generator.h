// Random-weight Qwen3-VL mmproj GGUF files (`qwen3 gen-model --mmproj`), written with the
// keys and tensor names of llama.cpp's converter (conversion/qwen3vl.py) so that libmtmd
// loads the same file. Weights are a pure function of (seed, tensor name, index).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gguf/ggml_types.h"
#include "vision/vision_config.h"

namespace qwen3::gguf {
class GgufWriter;
}

namespace qwen3::vision {

// The keys llama.cpp's converter writes into a Qwen3-VL mmproj (general.* and clip.*);
// file_type F32 or F16. Shared by the generator and the HF converter (mmproj_convert.h).
void set_mmproj_metadata(gguf::GgufWriter& w, const VisionConfig& c, GgmlType file_type,
                         const std::string& name);
// The type the converter gives a tensor in a file of file_type (F32 or F16): matrices
// in the file type, 1-D tensors and the position embedding F32.
GgmlType mmproj_tensor_type(const std::string& name, size_t n_dims, GgmlType file_type);
// The tensors of a mmproj of this shape in the converter's order: name and GGUF dims.
std::vector<std::pair<std::string, std::vector<int64_t>>> mmproj_tensor_shapes(
    const VisionConfig& c);

struct MmprojOptions {
  VisionConfig config;
  GgmlType type = GgmlType::F32;  // F32 or F16 for the matrices (1-D tensors stay F32)
  uint64_t seed = 0;
};

void generate_random_mmproj(const MmprojOptions& opts, const std::string& path);

}  // namespace qwen3::vision
