// A parsed Jinja chat template and its renderer: the template a model ships
// (GGUF tokenizer.chat_template, chat_template.jinja, tokenizer_config.json) rendered
// the way @huggingface/jinja renders it, byte for byte, for the constructs the Qwen
// family's templates use (see docs/templates.md). Anything outside that is a
// TemplateError naming the construct and its line/column, never a silent fallback.
// The output tells which bytes came from the context (messages, tools): only the rest,
// the template's own text, may hold special tokens.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "text/jinja_ast.h"
#include "text/jinja_value.h"

namespace qwen3::text::jinja {

struct RenderLimits {
  size_t max_output_bytes = 16u << 20;    // also bounds every string built on the way
  size_t max_loop_iterations = 1u << 20;  // summed over all loops, range() and lists
  size_t max_call_depth = 64;             // macro calls inside macro calls
};

class Template {
 public:
  // Throws TemplateError for templates we cannot parse (or over the size limit).
  explicit Template(std::string source, const ParseLimits& limits = {});
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // `context` must be a JSON object; each member becomes a variable (strings in it are
  // marked as data). Throws TemplateError.
  Str render(const nlohmann::ordered_json& context, const RenderLimits& limits = {}) const;
  // Same with variables already converted (for callers that add their own values).
  Str render(const std::vector<std::pair<std::string, Value>>& variables,
             const RenderLimits& limits = {}) const;

  const std::string& source() const { return program_->source; }

 private:
  std::unique_ptr<Program> program_;
};

}  // namespace qwen3::text::jinja
