#include "engine/prompt_builder.h"

#include <chrono>
#include <stdexcept>
#include <string>

#include "engine/image_prompt.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace qwen3::engine {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string too_long(std::size_t tokens, const PromptBudget& b, const char* what) {
  return std::string(what) + " needs " + std::to_string(tokens) + " tokens + " +
         std::to_string(b.reply_reserve) + " reserved for the reply, but the context holds " +
         std::to_string(b.n_ctx) + " tokens";
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> droppable_turns(
    const std::vector<ChatMessage>& messages) {
  const std::size_t first = !messages.empty() && messages[0].role == "system" ? 1 : 0;
  std::vector<std::size_t> starts;  // the first turn starts right after the system message
  for (std::size_t i = first; i < messages.size(); ++i)
    if (i == first || messages[i].role == "user") starts.push_back(i);
  std::vector<std::pair<std::size_t, std::size_t>> turns;
  for (std::size_t t = 0; t + 1 < starts.size(); ++t) turns.emplace_back(starts[t], starts[t + 1]);
  return turns;
}

BuiltPrompt build_chat_prompt(const ChatHistory& history, std::optional<bool> enable_thinking,
                              const Tokenizer& tok, const PromptBudget& budget,
                              bool special_in_content,
                              const std::vector<std::vector<std::int32_t>>* images) {
  if (history.messages.empty()) throw std::invalid_argument("empty chat history");
  if (images && images->empty()) images = nullptr;
  const auto tmpl = text::ChatTemplate::for_source(tok.chat_template());
  const text::TemplateFamily& family = tmpl->family();
  text::TemplateOptions opts;
  opts.add_generation_prompt = true;
  opts.enable_thinking = enable_thinking;
  std::string last_user;
  for (const auto& m : history.messages)
    if (m.role == "user") last_user = m.content;
  BuiltPrompt p;
  p.note = text::thinking_switch_note(family, enable_thinking, last_user);
  if (!family.thinking_switch) opts.enable_thinking.reset();  // nothing in the template reads it
  p.tool_format = family.tool_calls;
  p.tools_json = history.tools_json;
  const auto turns = droppable_turns(history.messages);
  ImageMarkers markers;
  if (images) markers = insert_image_markers(history);
  ChatHistory h = images ? markers.history : history;
  // Drop the oldest turns one at a time; each try renders and tokenizes the whole prompt
  // (exactness over speed: the template is not additive across turns).
  for (std::size_t dropped = 0;; ++dropped) {
    if (dropped > 0) {
      const auto& [b, e] = turns[dropped - 1];
      // Erase by the original positions, shifted by what was erased before.
      const std::size_t shift = turns[dropped - 1].first - turns[0].first;
      h.messages.erase(h.messages.begin() + static_cast<long>(b - shift),
                       h.messages.begin() + static_cast<long>(e - shift));
    }
    auto t0 = Clock::now();
    text::RenderedChat r = tmpl->render(h, opts);
    p.text = std::move(r.text);
    p.template_ms += ms_since(t0);
    t0 = Clock::now();
    if (images) {  // image markers -> vision tokens -> each image's run of ids
      const std::vector<int> order = replace_image_markers(markers.prefix, p.text, r.literal);
      const std::vector<std::int32_t> pad = tok.encode("<|image_pad|>", /*parse_special=*/true);
      if (pad.size() != 1)
        throw std::invalid_argument("the model's vocabulary has no <|image_pad|> token");
      p.ids =
          expand_image_runs(tok.encode_with_literals(p.text, r.literal), pad[0], order, *images);
    } else {
      p.ids = special_in_content ? tok.encode(p.text, /*parse_special=*/true)
                                 : tok.encode_with_literals(p.text, r.literal);
    }
    p.tokenize_ms += ms_since(t0);
    p.dropped_turns = dropped;
    if (p.ids.size() + budget.reply_reserve <= budget.n_ctx) break;
    if (dropped == turns.size())
      throw std::length_error(
          too_long(p.ids.size(), budget, "the last message with the system message"));
  }
  p.starts_in_reasoning = ends_with(p.text, "<think>\n") || ends_with(p.text, "<think>");
  return p;
}

BuiltPrompt build_raw_prompt(const std::string& prompt, const Tokenizer& tok,
                             const PromptBudget& budget) {
  BuiltPrompt p;
  p.text = prompt;
  const auto t0 = Clock::now();
  p.ids = tok.encode(prompt, /*parse_special=*/true);
  p.tokenize_ms = ms_since(t0);
  if (p.ids.empty()) throw std::invalid_argument("empty prompt");
  if (p.ids.size() + budget.reply_reserve > budget.n_ctx)
    throw std::length_error(too_long(p.ids.size(), budget, "the prompt"));
  p.starts_in_reasoning = false;
  return p;
}

}  // namespace qwen3::engine
