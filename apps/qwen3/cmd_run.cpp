// `qwen3 run`: one reply to one prompt, streamed, with a stats line on stderr.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "command.h"
#include "common/file_bytes.h"
#include "device_options.h"
#include "kv_type_option.h"
#include "lora_options.h"
#include "model_option.h"
#include "quantize_option.h"
#include "qwen3/pipeline.h"
#include "reply_printer.h"
#include "sampling_options.h"
#include "vision_run.h"

namespace qwen3::cli {
namespace {

struct RunOpts {
  std::string model, prompt, system, prompt_file;
  SamplingOptions sampling{1024};
  bool raw = false, hide_thinking = false;
  int threads = 0, ctx = 0;
  std::string quantize;
  std::string kv_type;
  std::string json_schema_file, grammar_file;
  std::optional<std::string> regex;
  std::optional<std::size_t> reasoning_budget;
  std::string device = "CPU";
  DeviceOptions dev;
  std::vector<std::string> lora;
  VisionOptions vision;  // Qwen3-VL: --mmproj, --image (vision_run.h)
};

std::string read_text_file(const std::string& path, const char* what) {
  std::optional<std::string> bytes = read_file_bytes(path);
  if (!bytes)
    throw std::runtime_error(std::string("cannot read the ") + what + " file '" + path + "'");
  return std::move(*bytes);
}

// The prompt: -p TEXT, -p - (standard input) or -f FILE.
std::string read_prompt(const RunOpts& o) {
  if (!o.prompt_file.empty()) return read_text_file(o.prompt_file, "prompt");
  if (o.prompt == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  return o.prompt;
}

Registrar reg(
    {"run", "Generate one reply to a prompt (streamed)", [](CLI::App& app) {
       auto o = std::make_shared<RunOpts>();
       add_model_option(app, o->model);
       auto* p = app.add_option("-p,--prompt", o->prompt,
                                "The user message (or raw prompt with --raw); - reads stdin");
       auto* f = app.add_option("-f,--file", o->prompt_file, "Read the prompt from this file");
       p->excludes(f);
       o->sampling.add_to(app);
       app.add_flag("--raw", o->raw, "Feed the prompt as is, without the chat template");
       app.add_flag("--hide-thinking", o->hide_thinking, "Do not print the reasoning");
       add_threads_option(app, o->threads);
       add_ctx_option(app, o->ctx);
       app.add_option("--system", o->system, "System message");
       add_quantize_option(app, o->quantize);
       add_kv_type_option(app, o->kv_type);
       add_device_options(app, o->dev, o->device);
       add_lora_option(app, o->lora);
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
       add_vision_options(app, o->vision);
       return [o, p, f]() -> int {
         if (p->count() == 0 && f->count() == 0)
           throw std::invalid_argument("a prompt is required: -p TEXT, -p - (stdin) or -f FILE");
         check_vision_options(o->vision);
         if (!o->vision.images.empty()) {
           if (o->raw || !o->lora.empty() || !o->json_schema_file.empty() ||
               !o->grammar_file.empty() || o->regex || o->device != "CPU" || !o->quantize.empty())
             throw std::invalid_argument(
                 "--image runs a chat turn on the CPU: not with --raw, --lora, --quantize, "
                 "--device or constrained output");
           VisionRunArgs va{o->model, o->system,  read_prompt(*o), o->vision,
                            {},       o->threads, o->ctx};
           va.kv = kv_type_or_default(o->kv_type);
           o->sampling.apply(va.config);
           return run_with_images(va);
         }
         Properties props;
         if (o->threads > 0) props["n_threads"] = std::to_string(o->threads);
         if (o->ctx > 0) props["n_ctx"] = std::to_string(o->ctx);
         if (!o->quantize.empty()) props["quantize"] = o->quantize;
         if (!o->kv_type.empty()) props["kv_type"] = o->kv_type;
         apply_device_options(o->dev, props);
         apply_lora_option(o->lora, props);
         Pipeline pipe(o->model, o->device, props);
         print_device_report(pipe, o->device);
         GenerationConfig cfg;
         o->sampling.apply(cfg);
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
         const DecodedResult r = pipe.generate(read_prompt(*o), cfg, &printer);
         print_handoff(r);
         if (!r.note.empty()) std::fprintf(stderr, "note: %s\n", r.note.c_str());
         std::fprintf(stderr, "%s\n", stats_line(r, pipe.session_metrics().load_time_ms).c_str());
         return kExitOk;
       };
     }});

}  // namespace
}  // namespace qwen3::cli
