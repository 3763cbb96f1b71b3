// make_shared_pipelines: one model load, N sequences (see shared_pipelines.h).
#include "engine/shared_pipelines.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "engine/backend.h"
#include "engine/batched_backend.h"
#include "engine/model_defaults.h"
#include "engine/native_backend.h"
#include "engine/vl_encoder.h"
#include "model/hf_config.h"
#include "model/lora_adapter.h"

namespace qwen3::engine {
namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool batchable(const std::string& device, const Properties& props) {
  const std::string d = upper(device);
  const auto names = backend_names();
  const bool openvino = std::find(names.begin(), names.end(), "openvino") != names.end();
  if (d != "CPU" && !(d == "AUTO" && !openvino)) return false;  // AUTO may pick OpenVINO
  auto it = props.find("backend");
  return it == props.end() || it->second == "native";
}

}  // namespace

SharedPipelines make_shared_pipelines(const std::string& model_path, const std::string& device,
                                      const Properties& props, int n, int max_batch_tokens,
                                      const KvPoolOptions& kv) {
  if (n < 1) throw std::invalid_argument("make_shared_pipelines: need at least one sequence");
  SharedPipelines out;
  if (!batchable(device, props)) {
    for (int i = 0; i < n; ++i)
      out.pipelines.push_back(std::make_unique<Pipeline>(model_path, device, props));
    return out;
  }
  check_native_properties(props);
  const BackendOptions bo = parse_backend_options(model_path, "CPU", props);
  // A folder's generation_config.json before the (slow) load, so a malformed one fails
  // fast; a GGUF's general.sampling.* keys from the file the load opens (as Pipeline).
  const bool hf_folder = hf::is_hf_model_folder(model_path);
  ModelSamplingDefaults defaults;
  if (hf_folder) defaults = read_model_sampling_defaults(model_path);
  NativeBackend::Loaded loaded = NativeBackend::load(bo);
  if (!hf_folder && loaded.defaults) defaults = *loaded.defaults;
  std::shared_ptr<const Qwen3Model> model = std::move(loaded.model);
  // Qwen3-VL: the vision encoder (property "mmproj"), checked against the text model.
  std::shared_ptr<VlEncoder> vision;
  if (auto it = props.find("mmproj"); it != props.end() && !it->second.empty())
    vision = std::make_shared<VlEncoder>(it->second, model->config(), bo.n_threads);
  BatchEngineOptions eo;
  eo.max_seqs = n;
  eo.n_ctx = bo.n_ctx;
  eo.kv = bo.kv;
  eo.kv_size = kv.kv_size;
  eo.prefix_cache = kv.prefix_cache;
  eo.n_threads = bo.n_threads;
  if (!bo.adapters.empty()) {
    std::vector<std::pair<std::string, float>> list;
    for (const auto& a : bo.adapters.adapters) list.emplace_back(a.path, a.alpha);
    eo.lora = load_lora_set(list, model->config());
  }
  if (max_batch_tokens > 0) eo.max_batch_tokens = max_batch_tokens;  // else the engine's default
  eo.max_batch_tokens = std::max(n, eo.max_batch_tokens);
  out.engine = std::make_shared<BatchEngine>(std::move(model), eo);
  for (int i = 0; i < n; ++i)
    out.pipelines.push_back(std::make_unique<Pipeline>(
        std::make_unique<BatchedSequenceBackend>(out.engine, i, vision), defaults));
  return out;
}

}  // namespace qwen3::engine
