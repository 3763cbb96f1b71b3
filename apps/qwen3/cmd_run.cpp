// `qwen3 run`: one reply to one prompt, streamed, with a stats line on stderr.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "command.h"
#include "quantize_option.h"
#include "qwen3/pipeline.h"
#include "reply_printer.h"

namespace qwen3::cli {
namespace {

struct RunOpts {
  std::string model, prompt, system;
  int n_predict = 1024;
  std::optional<float> temp, top_p, min_p;
  std::optional<int> top_k;
  float presence_penalty = 0.0f, repeat_penalty = 1.0f;
  std::optional<std::uint64_t> seed;
  bool no_think = false, raw = false, hide_thinking = false;
  int threads = 0, ctx = 0;
  std::string quantize;
  std::string json_schema_file, grammar_file;
  std::optional<std::string> regex;
  std::optional<std::size_t> reasoning_budget;
};

std::string read_text_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(std::string("cannot read the ") + what + " file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Registrar reg(
    {"run", "Generate one reply to a prompt (streamed)", [](CLI::App& app) {
       auto o = std::make_shared<RunOpts>();
       app.add_option("-m,--model", o->model, "GGUF file or Hugging Face model folder")->required();
       app.add_option("-p,--prompt", o->prompt, "The user message (or raw prompt with --raw)")
           ->required();
       app.add_option("-n,--n-predict", o->n_predict, "Maximum tokens to generate")
           ->check(CLI::PositiveNumber);
       app.add_option("--temp", o->temp,
                      "Temperature (0 = greedy; default: the model's generation_config, else 0.6 "
                      "thinking, 0.7 not)")
           ->check(CLI::Range(0.0f, 100.0f));
       app.add_option("--top-k", o->top_k, "Top-k (0 = off; default: the model's, else 20)")
           ->check(CLI::NonNegativeNumber);
       app.add_option("--top-p", o->top_p,
                      "Top-p (default: the model's, else 0.95 thinking, 0.8 not)")
           ->check(CLI::Range(0.0f, 1.0f));
       app.add_option("--min-p", o->min_p, "Min-p (default: the model's, else 0)")
           ->check(CLI::Range(0.0f, 1.0f));
       app.add_option("--presence-penalty", o->presence_penalty,
                      "Presence penalty (0..2; default: the model's, else 0)");
       app.add_option("--repeat-penalty", o->repeat_penalty,
                      "Repetition penalty (1 = off; default: the model's, else 1)");
       app.add_option("--seed", o->seed, "Sampling seed (default: random)");
       app.add_flag("--no-think", o->no_think, "Disable thinking (empty <think></think> block)");
       app.add_flag("--raw", o->raw, "Feed the prompt as is, without the chat template");
       app.add_flag("--hide-thinking", o->hide_thinking, "Do not print the reasoning");
       app.add_option("-t,--threads", o->threads, "CPU threads (default: physical cores)")
           ->check(CLI::PositiveNumber);
       app.add_option("-c,--ctx", o->ctx, "Context length (default: min(4096, model maximum))")
           ->check(CLI::PositiveNumber);
       app.add_option("--system", o->system, "System message");
       add_quantize_option(app, o->quantize);
       auto* js = app.add_option("--json-schema", o->json_schema_file,
                                 "Constrain the answer to JSON valid for the JSON Schema in FILE");
       auto* gr =
           app.add_option("--grammar", o->grammar_file,
                          "Constrain the answer to the GBNF grammar in FILE (llama.cpp syntax)");
       auto* rx = app.add_option("--regex", o->regex, "Constrain the answer to match the regex R");
       js->excludes(gr)->excludes(rx);
       gr->excludes(rx);
       app.add_option("--reasoning-budget", o->reasoning_budget,
                      "At most N reasoning tokens (<think> .. </think>); then the runtime closes "
                      "the reasoning and the answer follows");
       return [o]() -> int {
         Properties props;
         if (o->threads > 0) props["n_threads"] = std::to_string(o->threads);
         if (o->ctx > 0) props["n_ctx"] = std::to_string(o->ctx);
         if (!o->quantize.empty()) props["quantize"] = o->quantize;
         Pipeline pipe(o->model, "CPU", props);
         GenerationConfig cfg;
         cfg.max_new_tokens = static_cast<std::size_t>(o->n_predict);
         cfg.temperature = o->temp;
         cfg.top_k = o->top_k;
         cfg.top_p = o->top_p;
         cfg.min_p = o->min_p;
         cfg.presence_penalty = o->presence_penalty;
         cfg.repetition_penalty = o->repeat_penalty;
         cfg.seed = o->seed;
         if (o->no_think) cfg.enable_thinking = false;
         cfg.apply_chat_template = !o->raw;
         cfg.thinking_budget = o->reasoning_budget;
         if (!o->json_schema_file.empty() || !o->grammar_file.empty() || o->regex) {
           StructuredOutputConfig so;
           if (!o->json_schema_file.empty())
             so.json_schema = read_text_file(o->json_schema_file, "JSON Schema");
           if (!o->grammar_file.empty()) so.grammar = read_text_file(o->grammar_file, "grammar");
           so.regex = o->regex;
           cfg.structured_output = so;
         }
         ReplyPrinter printer(stdout, isatty(STDOUT_FILENO) != 0, o->hide_thinking);
         if (!o->raw && !o->system.empty()) pipe.start_chat(o->system);  // system + user turn
         const DecodedResult r = pipe.generate(o->prompt, cfg, &printer);
         std::fprintf(stderr, "%s\n", stats_line(r, pipe.session_metrics().load_time_ms).c_str());
         return kExitOk;
       };
     }});

}  // namespace
}  // namespace qwen3::cli
