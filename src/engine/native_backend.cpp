#include "engine/native_backend.h"

#include <algorithm>
#include <chrono>

#include "engine/model_defaults.h"
#include "model/hf_model_loader.h"
#include "model/lora_adapter.h"
#include "text/tokenizer.h"

namespace qwen3::engine {

NativeBackend::Loaded NativeBackend::load(const BackendOptions& opts) {
  Loaded out;
  ModelLoadOptions lo;
  lo.n_threads = opts.n_threads;
  lo.quantize = hf::parse_load_quantize(opts.quantize);
  lo.opened_gguf = opts.opened_gguf;
  lo.on_gguf_metadata = [&out](const gguf::GgufFile& f) {
    out.defaults = gguf_sampling_defaults(f);
  };
  out.model = Qwen3Model::load(opts.model_path, lo);
  return out;
}

NativeBackend::NativeBackend(const BackendOptions& opts)
    : NativeBackend(opts, std::chrono::steady_clock::now()) {}

// t0 is taken before the delegated constructors load the model and allocate the cache.
NativeBackend::NativeBackend(const BackendOptions& opts, std::chrono::steady_clock::time_point t0)
    : NativeBackend(load(opts), opts, t0) {}

NativeBackend::NativeBackend(Loaded loaded, const BackendOptions& opts,
                             std::chrono::steady_clock::time_point t0)
    : NativeBackend(std::move(loaded.model), opts) {
  model_defaults_ = std::move(loaded.defaults);
  load_ms_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

NativeBackend::NativeBackend(std::shared_ptr<const Qwen3Model> model, const BackendOptions& opts)
    : model_(std::move(model)),
      ctx_(model_, opts.n_ctx, opts.kv, opts.n_threads),
      logits_(static_cast<std::size_t>(model_->config().n_vocab)),
      n_vocab_(std::min(model_->config().n_vocab, model_->tokenizer().n_vocab())) {
  if (!opts.adapters.empty()) set_adapters(opts.adapters);
  if (auto it = opts.properties.find("mmproj"); it != opts.properties.end() && !it->second.empty())
    vision_ = std::make_shared<VlEncoder>(it->second, model_->config(), opts.n_threads);
}

std::vector<std::vector<std::int32_t>> NativeBackend::prepare_images(
    const std::vector<const std::string*>& images) {
  if (!vision_) return TokenBackend::prepare_images(images);
  VlImageSet set;
  std::vector<std::vector<std::int32_t>> runs;
  for (std::size_t i = 0; i < images.size(); ++i) {
    try {
      set.push_back(vision_->encode(*images[i]));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("image " + std::to_string(i + 1) +
                                  " of the conversation: " + e.what());
    }
    runs.push_back(set.back()->ids);
  }
  images_ = std::move(set);
  return runs;
}

void NativeBackend::set_adapters(const AdapterConfig& adapters) {
  std::vector<std::pair<std::string, float>> list;
  for (const auto& a : adapters.adapters) list.emplace_back(a.path, a.alpha);
  ctx_.set_lora(list.empty() ? nullptr : load_lora_set(list, model_->config()));
  ctx_.truncate(0);  // the cached keys/values were computed with other adapters
}

BackendCapabilities NativeBackend::capabilities() const {
  return {"native", "CPU", true, static_cast<std::size_t>(ctx_.n_ctx())};
}

const float* NativeBackend::eval(const std::int32_t* ids, int n) {
  if (images_.empty() || std::none_of(ids, ids + n, is_image_token_id)) {
    ctx_.eval(ids, n, logits_.data(), false);
    return logits_.data();
  }
  // Text runs with eval, each whole image (its ids from the first) with eval_image.
  for (int i = 0; i < n;) {
    int j = i;
    if (!is_image_token_id(ids[i])) {
      while (j < n && !is_image_token_id(ids[j])) ++j;
      ctx_.eval(ids + i, j - i, j == n ? logits_.data() : nullptr, false);
      i = j;
      continue;
    }
    const VlImage* im = nullptr;
    for (const auto& p : images_)
      if (p->n_tokens() > 0 && p->ids[0] == ids[i]) im = p.get();
    if (!im || n - i < im->n_tokens() || !std::equal(im->ids.begin(), im->ids.end(), ids + i))
      throw std::invalid_argument("token id " + std::to_string(ids[i]) + " at index " +
                                  std::to_string(i) + " does not start an image of this prompt");
    i += im->n_tokens();
    ctx_.eval_image(im->rows.data(), im->grid_w, im->grid_h, i == n ? logits_.data() : nullptr);
  }
  return logits_.data();
}

std::unique_ptr<Backend> make_native_backend(const BackendOptions& opts) {
  return std::make_unique<NativeBackend>(opts);
}

}  // namespace qwen3::engine
