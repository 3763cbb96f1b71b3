// The per-reply decode controller: constrained content (a grammar compiled from a JSON
// Schema, a regex, GBNF or a tool set; compiled grammars are cached by their source) and
// the reasoning budget (tokens, wall clock, loop guard), as one TokenControl for the
// Generator.
//
// Phases: with thinking on, the first token may open <think> (or, with a budget of 0,
// may not); inside the reasoning every token is free except the end of the turn (a
// constrained reply must still come); </think> starts the constrained content. When a
// budget is spent the controller forces a short closing sentence and </think>.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/grammar_matcher.h"
#include "engine/reply_generator.h"
#include "qwen3/generation_config.h"
#include "text/chat_template.h"

namespace qwen3 {
class Tokenizer;
}

namespace qwen3::engine {

// With parallel_tool_calls, a constrained reply holds at most this many tool calls (OpenAI
// sets no number; a reply that keeps calling is cut here, as maxItems is capped for arrays).
constexpr int kMaxParallelToolCalls = 8;

// The GBNF text a structured-output config stands for (JSON Schema, regex, json_object and
// tools are translated). tok: whose <tool_call> ids to use (nullptr = Qwen3's). format:
// how the model writes tool calls (its chat template's family, text::TemplateFamily, the
// fact that also picks the reply parser): the JSON form or Qwen3-Coder's XML form. Throws
// std::invalid_argument naming the problem.
std::string structured_output_gbnf(const StructuredOutputConfig& so, const Tokenizer* tok,
                                   text::ToolCallFormat format = text::ToolCallFormat::kJson);

// Compiled grammar for a config, from a process-wide cache keyed by the GBNF text (so a
// request validated with tok == nullptr compiles once for a Qwen3 tokenizer).
std::shared_ptr<const text::CompiledGrammar> compile_structured_output(
    const StructuredOutputConfig& so, const Tokenizer* tok,
    text::ToolCallFormat format = text::ToolCallFormat::kJson);

// What makes the runtime close the reasoning.
struct ReasoningLimits {
  std::optional<std::size_t> tokens;
  std::optional<double> ms;
  bool loop_guard = false;
};

class DecodeController : public TokenControl {
 public:
  // grammar may be null (reasoning limits only). thinking: the reply may reason;
  // starts_in_reasoning: the prompt already opened <think>.
  DecodeController(const Tokenizer& tok, std::shared_ptr<const text::CompiledGrammar> grammar,
                   bool thinking, bool starts_in_reasoning, const ReasoningLimits& limits);

  std::optional<std::int32_t> forced() override;
  const std::vector<std::uint64_t>* mask() override;
  void accept(std::int32_t id) override;

  // The reply's max_new_tokens. Between parallel tool calls, another call is offered only
  // while the tokens left can hold one as long as the longest the tool grammar allows, when
  // its calls are bounded (their bytes, text::max_rule_bytes: a token has at least one), or
  // else as long as the longest this reply has written (plus the "\n" before it and the end
  // token after): otherwise the turn ends there, rather than be cut inside a call it had no
  // room to finish. Nothing else about the model changes.
  void set_token_limit(std::size_t max_new_tokens) { token_limit_ = max_new_tokens; }

  // "" / "budget" / "time" / "loop"
  const std::string& reasoning_closed() const { return closed_; }
  // The constrained content ended in a state no token could continue (never expected).
  bool dead_end() const { return dead_end_; }
  // The closing text forced when a budget is spent (before </think>).
  static const char* closing_phrase();

 private:
  enum class Phase { kStart, kThinking, kClosing, kContent };
  void close_reasoning(const char* why);
  void check_limits();

  const Tokenizer& tok_;
  std::shared_ptr<const TokenTrie> trie_;
  std::unique_ptr<GrammarMatcher> matcher_;
  ReasoningLimits limits_;
  Phase phase_;
  std::int32_t think_open_ = -1, think_close_ = -1;
  std::int32_t call_open_ = -1, call_close_ = -1;  // <tool_call>, </tool_call>
  std::size_t token_limit_ = SIZE_MAX;
  std::size_t generated_ = 0;     // tokens accepted so far (reasoning included)
  std::size_t call_start_ = 0;    // generated_ at the last <tool_call>
  std::size_t longest_call_ = 0;  // tokens of the longest call, <tool_call>..</tool_call>
  std::shared_ptr<const text::CompiledGrammar> grammar_;
  std::optional<std::optional<std::size_t>> max_call_;  // bytes of the longest call, once known
  bool after_call_ = false;                             // the last token was </tool_call>
  std::vector<std::int32_t> end_ids_;
  std::vector<std::int32_t> phrase_;       // closing sentence tokens
  std::vector<std::int32_t> force_queue_;  // front = next
  std::size_t force_pos_ = 0;
  std::size_t reasoning_tokens_ = 0;         // <think> .. so far
  std::vector<std::int32_t> reasoning_ids_;  // for the loop guard
  std::chrono::steady_clock::time_point think_start_;
  std::string closed_;
  bool dead_end_ = false;
  TokenMask mask_;
  TokenMask no_end_mask_;  // everything but the end tokens
};

}  // namespace qwen3::engine
