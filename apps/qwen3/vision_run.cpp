// `qwen3 run --image` (see vision_run.h).
#include "vision_run.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <vector>

#include "engine/backend.h"
#include "engine/reply_generator.h"
#include "engine/sampler.h"
#include "model/qwen3_model.h"
#include "text/tokenizer.h"
#include "vision/vl_prompt.h"

namespace qwen3::cli {
namespace {

// A token backend over one InferenceContext whose prompt holds <|image_pad|> runs: each
// run is the next image (eval_vl_prompt), other ids evaluate as text.
class VlBackend : public engine::TokenBackend {
 public:
  VlBackend(std::shared_ptr<const Qwen3Model> model, int n_ctx, KvType kv, int n_threads,
            const std::vector<vision::ImageEmbedding>& images)
      : model_(std::move(model)),
        ctx_(model_, n_ctx, kv, n_threads),
        images_(images),
        logits_(static_cast<size_t>(model_->config().n_vocab)),
        pad_(model_->tokenizer().token_id("<|image_pad|>").value_or(-1)) {}

  engine::BackendCapabilities capabilities() const override {
    return {"native", "CPU", false, static_cast<std::size_t>(ctx_.n_ctx())};
  }
  const Tokenizer& tokenizer() const override { return model_->tokenizer(); }
  int n_ctx() const override { return ctx_.n_ctx(); }
  int n_past() const override { return ctx_.n_past(); }
  int n_vocab() const override {
    return std::min(model_->config().n_vocab, model_->tokenizer().n_vocab());
  }
  void truncate(int n_past) override {
    ctx_.truncate(n_past);
    if (n_past == 0) next_image_ = 0;
  }
  const float* eval(const std::int32_t* ids, int n) override {
    // Once the prompt's images are in, ids are text (a generated <|image_pad|> included).
    if (next_image_ == static_cast<int>(images_.size())) {
      ctx_.eval(ids, n, logits_.data());
      return logits_.data();
    }
    next_image_ +=
        vision::eval_vl_prompt(ctx_, ids, n, pad_, images_, next_image_, logits_.data(), n - 1);
    return logits_.data();
  }

 private:
  std::shared_ptr<const Qwen3Model> model_;
  InferenceContext ctx_;
  const std::vector<vision::ImageEmbedding>& images_;
  std::vector<float> logits_;
  int32_t pad_;
  int next_image_ = 0;
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int run_with_images(const VisionRunArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  ModelLoadOptions lo;
  lo.n_threads = a.threads;
  std::shared_ptr<const Qwen3Model> model = Qwen3Model::load(a.model, lo);
  const double load_ms = ms_since(t0);
  const EncodedImages images = encode_image_options(a.vision, model->config(), a.threads);
  const Tokenizer& tok = model->tokenizer();
  const int32_t pad = tok.token_id("<|image_pad|>").value_or(-1);
  const std::vector<int32_t> prompt = vision::expand_image_pads(
      vision::vl_chat_prompt(tok, a.system, a.prompt, static_cast<int>(a.vision.images.size())),
      pad, images.embeddings);
  const int n_ctx = a.ctx > 0 ? a.ctx : std::min(model->config().max_context(), 4096);
  if (static_cast<int>(prompt.size()) >= n_ctx)
    throw std::length_error("the prompt with its images takes " + std::to_string(prompt.size()) +
                            " tokens, over the context of " + std::to_string(n_ctx) +
                            " (-c/--ctx)");
  VlBackend backend(model, n_ctx, a.kv, a.threads, images.embeddings);
  // Qwen3-VL Instruct answers without a reasoning block: the non-thinking defaults.
  const GenerationConfig cfg = a.config.resolved(/*thinking=*/false);
  engine::Sampler sampler(engine::SamplerParams::from(cfg));
  engine::GeneratorOptions go;
  go.max_new_tokens = cfg.max_new_tokens;
  go.ignore_eos = cfg.ignore_eos;
  go.end_tokens = {tok.im_end_id(), tok.eos_id()};
  engine::Generator gen(backend);
  IncrementalDecoder dec(tok, /*skip_special=*/true);
  const engine::GenerationOutcome out = gen.run(prompt, sampler, go, [&](std::int32_t id) {
    const std::string piece = dec.push(id);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return engine::TokenAction::kContinue;
  });
  const std::string rest = dec.flush();
  std::fwrite(rest.data(), 1, rest.size(), stdout);
  std::fputc('\n', stdout);
  const auto& t = out.timings;
  const double decode_ms = t.total_ms - t.ttft_ms;
  const double tps =
      out.tokens.size() > 1 && decode_ms > 0 ? (out.tokens.size() - 1) * 1000.0 / decode_ms : 0;
  std::fprintf(stderr,
               "[%zu prompt tokens (%d image tokens in %zu images, encoder %.0f ms), prefill %.0f "
               "ms, %zu generated, %.1f tok/s, load %.0f ms]\n",
               prompt.size(), images.n_tokens, images.embeddings.size(), images.encode_ms,
               t.prefill_ms, out.tokens.size(), tps, load_ms);
  return 0;
}

}  // namespace qwen3::cli
