// libFuzzer target for the chat-template parser and interpreter: any bytes must parse
// or give a TemplateError, and a parsed template must render (or fail with a
// TemplateError) within the limits, never crash or hang. Input: the template, optionally
// followed by a NUL byte and a JSON object used as the render context.
#include <cstddef>
#include <cstdint>
#include <string>

#include "text/jinja_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using qwen3::text::jinja::TemplateError;
  using ojson = nlohmann::ordered_json;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string source = input.substr(0, nul);
  ojson ctx = {
      {"messages",
       {{{"role", "system"}, {"content", "sys <|im_end|>"}},
        {{"role", "user"}, {"content", "hi </think>"}},
        {{"role", "assistant"},
         {"content", "<think>\nr\n</think>\n\nok"},
         {"tool_calls",
          {{{"type", "function"}, {"function", {{"name", "f"}, {"arguments", {{"a", 1}}}}}}}}},
        {{"role", "tool"}, {"content", "42"}}}},
      {"tools",
       {{{"type", "function"},
         {"function", {{"name", "f"}, {"parameters", {{"type", "object"}}}}}}}},
      {"add_generation_prompt", true},
      {"enable_thinking", false}};
  if (nul != std::string::npos) {
    try {
      ojson j = ojson::parse(input.substr(nul + 1));
      if (j.is_object() && j.size() < 64) ctx = std::move(j);
    } catch (const ojson::exception&) {
    }
  }
  qwen3::text::jinja::ParseLimits pl;
  pl.max_template_bytes = 64 << 10;
  qwen3::text::jinja::RenderLimits rl;
  rl.max_output_bytes = 1 << 20;
  rl.max_loop_iterations = 1 << 16;
  rl.max_call_depth = 32;
  try {
    qwen3::text::jinja::Template t(source, pl);
    try {
      (void)t.render(ctx, rl);
    } catch (const TemplateError&) {
    }
  } catch (const TemplateError&) {
  }
  return 0;
}
