// `qwen3 gen-model`: writes a random-weight Qwen3 of a preset shape, as a GGUF file or
// (--format hf) as a Hugging Face folder (config.json, generation_config.json, sharded
// *.safetensors + index, tokenizer files).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "command.h"
#include "convert/hf_checkpoint_writer.h"
#include "convert/hf_vl_writer.h"
#include "convert/mmproj_generator.h"
#include "convert/random_model.h"
#include "model/qwen3_config.h"
#include "text/tokenizer.h"

namespace qwen3::cli {
namespace {

struct GenModelArgs {
  std::string preset = "tiny";
  int layers = 0;
  std::string type;  // default f32 (gguf) or bf16 (hf)
  std::string tokenizer;
  uint64_t seed = 0;
  std::string out;
  int threads = 0;
  std::string format = "gguf";
  int shards = 2;
  double yarn = 0;  // 0 = no rope scaling
  int yarn_orig = 0;
  // Shape overrides (0 / empty = the preset's).
  int hidden = 0, experts = 0, experts_used = 0, ff_exp = 0, ctx_train = 0;
  std::string tied;
  // Qwen3-VL: the mmproj file written beside the (then qwen3vl) text GGUF.
  std::string mmproj, vision_preset, mmproj_type = "f32";
};

GgmlType hf_dtype(const std::string& t) {
  const GenModelType g = parse_gen_model_type(t);
  if (g.type && (*g.type == GgmlType::F32 || *g.type == GgmlType::F16 || *g.type == GgmlType::BF16))
    return *g.type;
  throw std::invalid_argument("--format hf writes f32, f16 or bf16 safetensors, not '" + t + "'");
}

Registrar reg(
    {"gen-model", "Write a random-weight Qwen3 GGUF or HF folder (tests, benchmarks)",
     [](CLI::App& app) {
       auto a = std::make_shared<GenModelArgs>();
       a->tokenizer = std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer.json";
       std::string presets;
       for (const auto& n : Qwen3Config::preset_names())
         presets += (presets.empty() ? "" : ", ") + n;
       app.add_option("--preset", a->preset, "Model shape: " + presets)->capture_default_str();
       app.add_option("--yarn", a->yarn,
                      "YaRN rope scaling factor written into the model (e.g. 4: 131,072 "
                      "tokens from the native 32,768)")
           ->check(CLI::Range(1.0, 1024.0));
       app.add_option("--yarn-orig", a->yarn_orig,
                      "YaRN original context (default min(context, 32768))")
           ->check(CLI::Range(1, 1 << 24));
       app.add_option("--hidden", a->hidden, "Override the hidden size (heads x head_dim kept)")
           ->check(CLI::Range(8, 65536));
       app.add_option("--experts", a->experts, "Override the expert count (MoE presets)")
           ->check(CLI::Range(1, 4096));
       app.add_option("--experts-used", a->experts_used, "Override the experts per token")
           ->check(CLI::Range(1, 4096));
       app.add_option("--ff-exp", a->ff_exp, "Override the expert MLP size")
           ->check(CLI::Range(1, 1 << 20));
       app.add_option("--ctx-train", a->ctx_train, "Override the model's context length")
           ->check(CLI::Range(1, 1 << 24));
       app.add_option("--tied", a->tied, "Tie the output to the embedding: true or false")
           ->check(CLI::IsMember({"true", "false"}));
       app.add_option("--layers", a->layers, "Override the number of blocks")
           ->check(CLI::Range(1, 1024));
       app.add_option("--type", a->type,
                      "Weight type: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q5_k q6_k q4_k_m "
                      "(default f32; --format hf: f32 f16 bf16, default bf16)");
       app.add_option("--tokenizer", a->tokenizer,
                      "tokenizer.json to embed (tokenizer_config.json beside it gives the chat "
                      "template)")
           ->capture_default_str();
       app.add_option("--seed", a->seed, "Random seed")->capture_default_str();
       app.add_option("-o,--output", a->out, "Output .gguf file (a folder with --format hf)")
           ->required();
       app.add_option("--format", a->format,
                      "gguf, or hf: a Hugging Face folder (--type f32|f16|bf16, default bf16)")
           ->check(CLI::IsMember({"gguf", "hf"}))
           ->capture_default_str();
       app.add_option("--shards", a->shards,
                      "--format hf: number of *.safetensors shards (1 = model.safetensors)")
           ->check(CLI::Range(1, 1000))
           ->capture_default_str();
       app.add_option("--mmproj", a->mmproj,
                      "Also write a random Qwen3-VL vision encoder (mmproj GGUF) here; the text "
                      "model becomes architecture qwen3vl (with --format hf: -o is a "
                      "Qwen3VLForConditionalGeneration folder of the same weights, f32 or f16)");
       app.add_option("--vision-preset", a->vision_preset,
                      "Vision encoder shape for --mmproj: tiny, 2b, 4b, 8b (default tiny for "
                      "the tiny preset, else 2b)")
           ->check(CLI::IsMember(vision::VisionConfig::preset_names()));
       app.add_option("--mmproj-type", a->mmproj_type, "Weight type of the mmproj: f32 or f16")
           ->check(CLI::IsMember({"f32", "f16"}))
           ->capture_default_str();
       app.add_option("-t,--threads", a->threads, "Threads (0 = physical cores)")
           ->check(CLI::Range(0, 1024));
       return [a]() -> int {
         const auto t0 = std::chrono::steady_clock::now();
         GenModelOptions opts;
         opts.config = Qwen3Config::preset(a->preset);
         if (a->layers > 0) opts.config.n_layers = a->layers;
         Qwen3Config& c = opts.config;
         if (a->hidden > 0) c.n_embd = a->hidden;
         if (a->ctx_train > 0) c.n_ctx_train = a->ctx_train;
         if (!a->tied.empty()) c.tied_embeddings = a->tied == "true";
         if (a->experts > 0 || a->experts_used > 0 || a->ff_exp > 0) {
           if (!c.is_moe())
             throw std::invalid_argument("--experts/--experts-used/--ff-exp need a MoE preset");
           if (a->experts > 0) c.n_expert = a->experts;
           if (a->experts_used > 0) c.n_expert_used = a->experts_used;
           if (a->ff_exp > 0) c.n_ff_exp = a->ff_exp;
         }
         if (a->yarn > 1.0) {  // Qwen3's model card: factor 4 over the native 32,768
           c.yarn_factor = static_cast<float>(a->yarn);
           c.yarn_orig_ctx = a->yarn_orig > 0 ? a->yarn_orig : std::min(c.n_ctx_train, 32768);
         }
         c.validate();
         const bool hf_vl = a->format == "hf" && !a->mmproj.empty();
         if (hf_vl && !a->type.empty() && a->type != "f32" && a->type != "f16")
           throw std::invalid_argument(
               "--format hf --mmproj writes f32 or f16 weights (got --type " + a->type + ")");
         if (a->format == "hf" && !hf_vl) {
           const Tokenizer tok = Tokenizer::from_file(a->tokenizer);
           if (tok.n_vocab() > opts.config.n_vocab)
             throw std::runtime_error("the tokenizer has " + std::to_string(tok.n_vocab()) +
                                      " tokens, more than the preset's vocabulary of " +
                                      std::to_string(opts.config.n_vocab));
           hf::RandomCheckpointOptions ho;
           ho.dtype = !a->type.empty() ? hf_dtype(a->type) : GgmlType::BF16;
           ho.n_shards = a->shards;
           ho.seed = a->seed;
           ho.tokenizer_dir = std::filesystem::path(a->tokenizer).parent_path().string();
           if (ho.tokenizer_dir.empty()) ho.tokenizer_dir = ".";
           hf::write_random_hf_checkpoint(a->out, hf::from_qwen3_config(opts.config), ho);
           const double s =
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
           std::fprintf(stderr, "wrote %s (Hugging Face folder, %s, %d layers, %s) in %.1f s\n",
                        a->out.c_str(), a->preset.c_str(), opts.config.n_layers,
                        std::string(ggml_type_info(ho.dtype).name).c_str(), s);
           return kExitOk;
         }
         opts.type = parse_gen_model_type(a->type.empty() ? "f32" : a->type);
         opts.seed = a->seed;
         if (!a->mmproj.empty()) {  // a Qwen3-VL pair
           vision::MmprojOptions mo;
           mo.config = vision::VisionConfig::preset(!a->vision_preset.empty() ? a->vision_preset
                                                    : a->preset == "tiny"     ? "tiny"
                                                                              : "2b");
           mo.config.proj_dim = opts.config.n_embd;
           mo.type = a->mmproj_type == "f16" ? GgmlType::F16 : GgmlType::F32;
           mo.seed = a->seed;
           vision::generate_random_mmproj(mo, a->mmproj);
           opts.vl_deepstack_layers = static_cast<int>(mo.config.deepstack_layers.size());
           opts.config.rope_theta = 5000000.0f;  // Qwen3-VL's text rope_theta
           std::fprintf(stderr, "wrote %s (Qwen3-VL vision encoder, %d blocks, %s)\n",
                        a->mmproj.c_str(), mo.config.n_layers, a->mmproj_type.c_str());
         }
         opts.n_threads = a->threads;
         const Tokenizer tok = Tokenizer::from_file(a->tokenizer);
         if (tok.n_vocab() > opts.config.n_vocab)
           throw std::runtime_error("the tokenizer has " + std::to_string(tok.n_vocab()) +
                                    " tokens, more than the preset's vocabulary of " +
                                    std::to_string(opts.config.n_vocab));
         if (hf_vl) {  // the pair, then the folder of the same weights
           const std::string text = a->out + ".text.gguf.tmp";
           generate_random_model(opts, tok, text);
           try {
             std::string tok_dir = std::filesystem::path(a->tokenizer).parent_path().string();
             hf::write_hf_vl_folder(text, a->mmproj, a->out, tok_dir.empty() ? "." : tok_dir);
           } catch (...) {
             std::filesystem::remove(text);
             throw;
           }
           std::filesystem::remove(text);
           std::fprintf(stderr, "wrote %s (Hugging Face Qwen3-VL folder, %s, %d layers, %s)\n",
                        a->out.c_str(), a->preset.c_str(), opts.config.n_layers,
                        opts.type.name.c_str());
           return kExitOk;
         }
         generate_random_model(opts, tok, a->out);
         const double s =
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
         std::fprintf(stderr, "wrote %s (%s, %d layers, %s) in %.1f s\n", a->out.c_str(),
                      a->preset.c_str(), opts.config.n_layers, opts.type.name.c_str(), s);
         return kExitOk;
       };
     }});

}  // namespace
}  // namespace qwen3::cli
