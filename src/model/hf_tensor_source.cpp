#include "model/hf_tensor_source.h"

#include <stdexcept>

#include "model/convert_tensor.h"
#include "model/hf_tensor_names.h"
#include "model/load_progress.h"

namespace qwen3::hf {

std::shared_ptr<HfTensorSource> HfTensorSource::open(const std::string& folder,
                                                     const HfModelConfig& cfg,
                                                     std::optional<ConvertTarget> quantize,
                                                     int n_threads) {
  std::shared_ptr<HfTensorSource> src(new HfTensorSource());
  src->folder_ = folder;
  src->ck_ = std::make_unique<SafetensorsCheckpoint>(SafetensorsCheckpoint::open(folder));
  const bool has_output = !cfg.tie_word_embeddings;
  const int n_layers = static_cast<int>(cfg.num_hidden_layers);

  const auto& hf_names = src->ck_->names();
  std::size_t done = 0;
  for (const auto& hf_name : hf_names) {
    if (quantize) report_load_progress("quantizing", done++, hf_names.size());
    auto gguf_name = gguf_name_for(hf_name);
    if (!gguf_name) {
      if (hf_name.find("rotary_emb.inv_freq") != std::string::npos) continue;  // old exports
      throw std::runtime_error(folder + ": tensor '" + hf_name + "' is not part of a " +
                               cfg.architecture + " checkpoint");
    }
    // Tied models may still ship lm_head.weight; the embedding is what the model uses.
    if (*gguf_name == "output.weight" && !has_output) continue;
    const SafetensorsTensor& t = src->ck_->at(hf_name);
    TensorView v{t.type, t.gguf_dims(), t.data, t.nbytes()};
    if (quantize) {
      const GgmlType to = tensor_type_for(*quantize, *gguf_name, v.dims, n_layers, has_output,
                                          static_cast<int>(cfg.num_experts));
      // Norms and other vectors stay as stored; the model widens them to F32 itself.
      if (to != t.type && v.dims.size() == 2) {
        std::vector<uint8_t> buf(ggml_row_size(to, v.dims[0]) * static_cast<size_t>(v.dims[1]));
        convert_rows(t.type, t.data, to, buf.data(), v.dims[0], v.dims[1], n_threads);
        src->ck_->release(t);
        v = TensorView{to, v.dims, buf.data(), buf.size()};
        src->owned_.push_back(std::move(buf));
      }
    }
    src->views_.emplace(*gguf_name, v);
    src->names_.push_back(*gguf_name);
  }
  if (quantize) report_load_progress("quantizing", hf_names.size(), hf_names.size());
  if (has_output && !src->views_.count("output.weight"))
    throw std::runtime_error(folder +
                             ": config.json says tie_word_embeddings is false, but the "
                             "checkpoint has no lm_head.weight");
  return src;
}

bool HfTensorSource::find(std::string_view gguf_name, TensorView* out) const {
  auto it = views_.find(std::string(gguf_name));
  if (it == views_.end()) return false;
  *out = it->second;
  return true;
}

}  // namespace qwen3::hf
