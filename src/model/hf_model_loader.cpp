#include "model/hf_model_loader.h"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "model/hf_tensor_source.h"
#include "text/tokenizer.h"

namespace qwen3::hf {

std::shared_ptr<Qwen3Model> load_hf_model(const std::string& folder, const ModelLoadOptions& opts) {
  const HfModelConfig cfg = read_hf_config(folder);
  if (cfg.vl)
    throw std::runtime_error(folder +
                             ": a Qwen3-VL folder is not run directly; convert it first "
                             "(qwen3 convert FOLDER -o text.gguf --mmproj-out mmproj.gguf)");
  std::optional<ConvertTarget> target;
  if (opts.quantize) {
    target = convert_target_for(*opts.quantize);
    if (!target)
      throw std::invalid_argument("cannot quantize to " +
                                  std::string(ggml_type_info(*opts.quantize).name) +
                                  " at load (choose q4_0, q4_k or q8_0)");
  }
  const std::string name = std::filesystem::path(folder).lexically_normal().filename().string();
  Qwen3Config qc = to_qwen3_config(cfg, name.empty() ? folder : name);
  qc.validate();
  auto tok = std::make_shared<const Tokenizer>(Tokenizer::from_file(folder));
  if (tok->n_vocab() > qc.n_vocab)
    throw std::runtime_error(folder + ": tokenizer has " + std::to_string(tok->n_vocab()) +
                             " tokens but config.json vocab_size is " + std::to_string(qc.n_vocab));
  auto src = HfTensorSource::open(folder, cfg, target, opts.n_threads);
  ModelLoadOptions rest = opts;
  rest.quantize.reset();  // already applied by the source
  return Qwen3Model::from_source(qc, tok, src, rest);
}

std::optional<GgmlType> parse_load_quantize(const std::string& s) {
  std::string l;
  for (char ch : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (l.empty() || l == "none") return std::nullopt;
  if (l == "q4_0") return GgmlType::Q4_0;
  if (l == "q4_k" || l == "q4_k_m") return GgmlType::Q4_K;
  if (l == "q8_0") return GgmlType::Q8_0;
  throw std::invalid_argument("--quantize must be q4_0, q4_k, q8_0 or none (got '" + s + "')");
}

}  // namespace qwen3::hf
