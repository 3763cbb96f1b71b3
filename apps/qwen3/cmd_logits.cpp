// `qwen3 logits`: float32 logits of every input position (n_ids x n_vocab, row-major).
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "command.h"
#include "common/split.h"
#include "kv_type_option.h"
#include "lora_options.h"
#include "model/qwen3_model.h"
#include "model_option.h"
#include "quantize_option.h"
#include "text/tokenizer.h"
#include "vision_options.h"
#include "whole_int.h"

namespace qwen3::cli {
namespace {

struct LogitsArgs {
  std::string model;
  std::string ids;
  std::string out;
  int threads = 0;
  bool kv_f32 = false;
  std::string quantize;
  std::string kv_type;
  int last = 0;  // 0 = every position
  std::vector<std::string> lora;
  VisionOptions vision;
};

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  for (const std::string& item : split_on(s, ',')) {
    const std::optional<long long> v = whole_int(item);
    if (!v || *v < 0 || *v > INT32_MAX)
      throw std::invalid_argument("--ids: '" + item + "' is not a token id");
    ids.push_back(static_cast<int32_t>(*v));
  }
  if (ids.empty()) throw std::invalid_argument("--ids: no token ids given");
  return ids;
}

Registrar reg(
    {"logits", "Float32 logits of every position of a token sequence", [](CLI::App& app) {
       // With --image: each <|image_pad|> id in --ids stands for the next image and becomes
       // its run of image tokens; the output then has a row per expanded position.
       auto a = std::make_shared<LogitsArgs>();
       add_model_option(app, a->model);
       app.add_option("--ids", a->ids, "Comma-separated token ids, e.g. 1,2,3")->required();
       app.add_option("-o,--output", a->out, "Output file: n_ids x n_vocab float32, row-major")
           ->required();
       add_threads_or_zero_option(app, a->threads);
       auto* kv_f32 = app.add_flag("--kv-f32", a->kv_f32,
                                   "Keep the KV cache in F32 (default F16; = --kv-type f32)");
       add_kv_type_option(app, a->kv_type)->excludes(kv_f32);
       app.add_option("--last", a->last, "Write only the last N positions' rows (long contexts)")
           ->check(CLI::Range(1, 1 << 30));
       add_quantize_option(app, a->quantize);
       add_lora_option(app, a->lora);
       add_vision_options(app, a->vision);
       return [a]() -> int {
         std::vector<int32_t> ids = parse_ids(a->ids);
         check_vision_options(a->vision);
         ModelLoadOptions lo;
         lo.n_threads = a->threads;
         lo.quantize = hf::parse_load_quantize(a->quantize);
         auto model = Qwen3Model::load(a->model, lo);
         const EncodedImages images = encode_image_options(a->vision, model->config(), a->threads);
         const int32_t pad = model->tokenizer().token_id("<|image_pad|>").value_or(-1);
         if (!a->vision.images.empty())
           ids = vision::expand_image_pads(ids, pad, images.embeddings);
         const int max_ctx = model->config().max_context();
         if (static_cast<int64_t>(ids.size()) > max_ctx)
           throw std::length_error(std::to_string(ids.size()) +
                                   " ids exceed the model's context of " + std::to_string(max_ctx));
         InferenceContext ctx(model, static_cast<int>(ids.size()),
                              a->kv_f32 ? KvType::F32 : kv_type_or_default(a->kv_type), a->threads);
         ctx.set_lora(lora_set(a->lora, model->config()));
         const size_t V = static_cast<size_t>(model->config().n_vocab);
         const int n = static_cast<int>(ids.size());
         const int rows = a->last > 0 ? std::min(a->last, n) : n;
         std::vector<float> logits(static_cast<size_t>(rows) * V);
         if (!images.embeddings.empty()) {
           vision::eval_vl_prompt(ctx, ids.data(), n, pad, images.embeddings, 0, logits.data(),
                                  n - rows);
         } else {
           if (rows < n) ctx.eval(ids.data(), n - rows, nullptr);
           ctx.eval(ids.data() + (n - rows), rows, logits.data(), /*all_logits=*/true);
         }
         FILE* f = std::fopen(a->out.c_str(), "wb");
         if (!f) throw std::runtime_error("cannot create " + a->out + ": " + std::strerror(errno));
         const size_t wrote = std::fwrite(logits.data(), sizeof(float), logits.size(), f);
         if (std::fclose(f) != 0 || wrote != logits.size())
           throw std::runtime_error("cannot write " + a->out);
         return kExitOk;
       };
     }});

}  // namespace
}  // namespace qwen3::cli
