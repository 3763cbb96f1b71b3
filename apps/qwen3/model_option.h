// The options that say what model a command reads and how it runs it: -m/--model, required,
// with one help text per kind of input (the tokenizer commands tokenize, detokenize,
// template and parse-output need only a tokenizer source; run, bench, logits and serve need
// the weights), -t/--threads in its two forms (the Pipeline commands: positive, default the
// physical cores; the measuring ones: 0 means the physical cores) and -c/--ctx. One place,
// so commands that take the same option describe and check it the same way.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace qwen3::cli {

// -m a model to run: a GGUF file or a Hugging Face folder.
inline CLI::Option* add_model_option(CLI::App& app, std::string& model) {
  return app.add_option("-m,--model", model, "GGUF file or Hugging Face model folder")->required();
}

// -m where the tokenizer (and chat template) come from.
inline CLI::Option* add_tokenizer_source_option(CLI::App& app, std::string& model) {
  return app.add_option("-m,--model", model, "GGUF file, model folder, or tokenizer.json")
      ->required();
}

// -t for the Pipeline commands (run, serve): positive; unset, the physical cores.
inline CLI::Option* add_threads_option(CLI::App& app, int& threads) {
  return app.add_option("-t,--threads", threads, "CPU threads (default: physical cores)")
      ->check(CLI::PositiveNumber);
}

// -t for the commands that drive the model directly (bench, logits): 0 = physical cores.
inline CLI::Option* add_threads_or_zero_option(CLI::App& app, int& threads) {
  return app.add_option("-t,--threads", threads, "Threads (0 = physical cores)")
      ->check(CLI::Range(0, 1024));
}

// -c for the Pipeline commands that hold one conversation (run).
inline CLI::Option* add_ctx_option(CLI::App& app, int& ctx) {
  return app.add_option("-c,--ctx", ctx, "Context length (default: min(4096, model maximum))")
      ->check(CLI::PositiveNumber);
}

}  // namespace qwen3::cli
