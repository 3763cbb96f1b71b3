// `qwen3 gen-model`: writes a random-weight Qwen3 GGUF of a preset shape.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "command.h"
#include "model/model_generator.h"
#include "model/qwen3_config.h"
#include "text/tokenizer.h"

namespace qwen3::cli {
namespace {

struct GenModelArgs {
  std::string preset = "tiny";
  int layers = 0;
  std::string type = "f32";
  std::string tokenizer;
  uint64_t seed = 0;
  std::string out;
  int threads = 0;
};

Registrar reg(
    {"gen-model", "Write a random-weight Qwen3 GGUF (for tests and benchmarks)", [](CLI::App& app) {
       auto a = std::make_shared<GenModelArgs>();
       a->tokenizer = std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer.json";
       app.add_option("--preset", a->preset, "Model shape: tiny, 0.6b, 1.7b, 4b, 8b")
           ->capture_default_str();
       app.add_option("--layers", a->layers, "Override the number of blocks")
           ->check(CLI::Range(1, 1024));
       app.add_option("--type", a->type,
                      "Weight type: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q5_k q6_k q4_k_m")
           ->capture_default_str();
       app.add_option("--tokenizer", a->tokenizer,
                      "tokenizer.json to embed (tokenizer_config.json beside it gives the chat "
                      "template)")
           ->capture_default_str();
       app.add_option("--seed", a->seed, "Random seed")->capture_default_str();
       app.add_option("-o,--output", a->out, "Output .gguf file")->required();
       app.add_option("-t,--threads", a->threads, "Threads (0 = physical cores)")
           ->check(CLI::Range(0, 1024));
       return [a]() -> int {
         const auto t0 = std::chrono::steady_clock::now();
         GenModelOptions opts;
         opts.config = Qwen3Config::preset(a->preset);
         if (a->layers > 0) opts.config.n_layers = a->layers;
         opts.type = parse_gen_model_type(a->type);
         opts.seed = a->seed;
         opts.n_threads = a->threads;
         const Tokenizer tok = Tokenizer::from_file(a->tokenizer);
         if (tok.n_vocab() > opts.config.n_vocab)
           throw std::runtime_error("the tokenizer has " + std::to_string(tok.n_vocab()) +
                                    " tokens, more than the preset's vocabulary of " +
                                    std::to_string(opts.config.n_vocab));
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
