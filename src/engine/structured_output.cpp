// Structured-output configs -> grammars (cached) and the DecodeController (see
// structured_output.h).
#include "engine/structured_output.h"

#include <algorithm>
#include <list>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "text/json_limits.h"
#include "text/json_schema.h"
#include "text/regex_grammar.h"
#include "text/special_tokens.h"
#include "text/tokenizer.h"
#include "text/tool_call_grammar.h"

namespace qwen3::engine {
namespace {

using Json = nlohmann::ordered_json;

// tok == nullptr: Qwen3's own ids (request validation before a tokenizer is at hand).
std::int32_t special_id(const Tokenizer* tok, const char* text) {
  if (!tok) {
    const SpecialTokenInfo* info = find_special_token(text);
    if (!info) throw std::logic_error(std::string("no Qwen3 special token ") + text);
    return info->id;
  }
  auto id = tok->token_id(text);
  if (!id || !tok->is_special(*id))
    throw std::invalid_argument(std::string("this tokenizer has no ") + text + " token");
  return *id;
}

Json parse_schema_text(const std::string& text, const char* what) {
  try {
    text::JsonLimits l;
    l.max_depth = 64;
    return text::parse_json(text, l);
  } catch (const text::JsonError& e) {
    throw std::invalid_argument(std::string(what) + ": " + e.what());
  }
}

std::string tools_gbnf(const StructuredOutputConfig& so, const Tokenizer* tok,
                       text::ToolCallFormat format) {
  const Json tools = parse_schema_text(so.tools_json, "tools");
  if (!tools.is_array()) throw std::invalid_argument("tools must be a JSON array");
  // "auto": the model chose to call, so arguments follow JSON Schema's own default (extra
  // keys allowed); forced calls are held to the listed parameters.
  text::SchemaLimits limits;
  limits.strict_objects = so.tool_mode == StructuredOutputConfig::ToolMode::kRequired;
  const bool xml = format == text::ToolCallFormat::kXml;
  limits.xml_values = xml;
  text::SchemaConverter conv(limits);
  std::string alts;
  int n = 0;
  for (const auto& t : tools) {
    const Json& fn = t.contains("function") ? t["function"] : t;
    if (!fn.is_object() || !fn.contains("name") || !fn["name"].is_string())
      throw std::invalid_argument("tools: every tool needs a function name");
    const std::string name = fn["name"].get<std::string>();
    if (!so.tool_name.empty() && name != so.tool_name) continue;
    Json params = fn.contains("parameters") ? fn["parameters"] : Json::object();
    if (xml) {  // Qwen3-Coder: <function=NAME> <parameter=P> ... (the body with its newlines)
      const std::string body =
          text::xml_tool_call_gbnf(name, params, conv, "tool" + std::to_string(n));
      if (!alts.empty()) alts += " | ";
      alts += "(" + body + ")";
      ++n;
      continue;
    }
    if (params.is_object() && params.empty()) params = Json{{"type", "object"}};
    std::string args;
    try {
      args = conv.add(params, "tool" + std::to_string(n) + "-args");
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("tools: the parameters of '" + name + "': " + e.what());
    }
    const std::string head = "{\"name\": " + Json(name).dump() + ", \"arguments\": ";
    if (!alts.empty()) alts += " | ";
    alts += "(" + text::gbnf_literal(head) + " " + args + " \"}\")";
    ++n;
  }
  if (n == 0) throw std::invalid_argument("tools: no tool named '" + so.tool_name + "'");
  const std::string open = "<[" + std::to_string(special_id(tok, "<tool_call>")) + "]>";
  const std::string close = "<[" + std::to_string(special_id(tok, "</tool_call>")) + "]>";
  std::string g = xml ? "tool-call ::= " + open + " (" + alts + ") " + close + "\n"
                      : "tool-call ::= " + open + " \"\\n\" (" + alts + ") \"\\n\" " + close + "\n";
  // Parallel calls are bounded (kMaxParallelToolCalls), as the schema converter bounds
  // arrays: a model that keeps repeating calls still ends its reply.
  const std::string calls =
      so.parallel_tool_calls
          ? "tool-call (\"\\n\" tool-call){0," + std::to_string(kMaxParallelToolCalls - 1) + "}"
          : "tool-call";
  if (so.tool_mode == StructuredOutputConfig::ToolMode::kRequired)
    g += "root ::= " + calls + "\n";
  else
    g += "root ::= free-text (" + calls + ")?\nfree-text ::= .*\n";
  return g + conv.rules();
}

}  // namespace

std::string structured_output_gbnf(const StructuredOutputConfig& so, const Tokenizer* tok,
                                   text::ToolCallFormat format) {
  if (so.grammar) return *so.grammar;
  if (so.regex) return "root ::= " + text::regex_to_gbnf(*so.regex) + "\n";
  if (so.json_object) return text::json_schema_to_gbnf(Json{{"type", "object"}});
  if (so.json_schema) {
    const Json schema = parse_schema_text(*so.json_schema, "json_schema");
    return text::json_schema_to_gbnf(schema);
  }
  if (so.tool_mode != StructuredOutputConfig::ToolMode::kNone) return tools_gbnf(so, tok, format);
  throw std::invalid_argument("structured_output is empty");
}

std::shared_ptr<const text::CompiledGrammar> compile_structured_output(
    const StructuredOutputConfig& so, const Tokenizer* tok, text::ToolCallFormat format) {
  const std::string gbnf = structured_output_gbnf(so, tok, format);
  static std::mutex mu;
  static std::list<std::pair<std::string, std::shared_ptr<const text::CompiledGrammar>>> lru;
  constexpr std::size_t kMaxCached = 64;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = lru.begin(); it != lru.end(); ++it)
      if (it->first == gbnf) {
        lru.splice(lru.begin(), lru, it);
        return lru.front().second;
      }
  }
  auto g = std::make_shared<const text::CompiledGrammar>(text::compile_gbnf(gbnf));
  std::lock_guard<std::mutex> lock(mu);
  lru.emplace_front(gbnf, g);
  if (lru.size() > kMaxCached) lru.pop_back();
  return g;
}

const char* DecodeController::closing_phrase() {
  return "\n\nConsidering the limited time, I have to give the answer based on the thinking "
         "directly now.\n";
}

DecodeController::DecodeController(const Tokenizer& tok,
                                   std::shared_ptr<const text::CompiledGrammar> grammar,
                                   bool thinking, bool starts_in_reasoning,
                                   const ReasoningLimits& limits)
    : tok_(tok), limits_(limits) {
  end_ids_ = {tok.im_end_id(), tok.eos_id()};
  if (auto id = tok.token_id("<think>")) think_open_ = *id;
  if (auto id = tok.token_id("</think>")) think_close_ = *id;
  if (auto id = tok.token_id("<tool_call>"); id && tok.is_special(*id)) call_open_ = *id;
  if (auto id = tok.token_id("</tool_call>"); id && tok.is_special(*id)) call_close_ = *id;
  if (grammar) {
    trie_ = TokenTrie::of(tok);
    grammar_ = grammar;
    matcher_ = std::make_unique<GrammarMatcher>(std::move(grammar));
  }
  phrase_ = tok.encode(closing_phrase(), false);
  if (!thinking || think_open_ < 0 || think_close_ < 0) {
    phase_ = Phase::kContent;
  } else if (starts_in_reasoning) {
    phase_ = Phase::kThinking;
    think_start_ = std::chrono::steady_clock::now();
  } else {
    phase_ = Phase::kStart;
  }
  const std::size_t words = (static_cast<std::size_t>(tok.n_vocab()) + 63) / 64;
  no_end_mask_.assign(words, ~std::uint64_t{0});
  for (std::int32_t e : end_ids_)
    no_end_mask_[static_cast<std::size_t>(e) >> 6] &= ~(std::uint64_t{1} << (e & 63));
  if (static_cast<std::size_t>(tok.n_vocab()) % 64)
    no_end_mask_.back() &= (std::uint64_t{1} << (tok.n_vocab() % 64)) - 1;
}

void DecodeController::close_reasoning(const char* why) {
  closed_ = why;
  phase_ = Phase::kClosing;
  force_queue_.clear();
  force_pos_ = 0;
  // Room for the sentence and </think> within a token budget; else </think> alone.
  std::size_t room = SIZE_MAX;
  if (limits_.tokens)
    room = *limits_.tokens > reasoning_tokens_ ? *limits_.tokens - reasoning_tokens_ : 0;
  if (room > phrase_.size()) force_queue_ = phrase_;
  force_queue_.push_back(think_close_);
}

void DecodeController::check_limits() {
  if (phase_ != Phase::kThinking) return;
  if (limits_.tokens) {
    const std::size_t budget = *limits_.tokens;
    const std::size_t rem = budget > reasoning_tokens_ ? budget - reasoning_tokens_ : 0;
    // The sentence and </think> end exactly at the budget; a budget too small for the
    // sentence ends with </think> alone.
    if (rem == phrase_.size() + 1 || rem <= 1) return close_reasoning("budget");
  }
  if (limits_.ms) {
    const double elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - think_start_)
            .count();
    const double per_token =
        reasoning_tokens_ > 1 ? elapsed / static_cast<double>(reasoning_tokens_) : 0;
    if (elapsed + per_token * static_cast<double>(phrase_.size() + 1) >= *limits_.ms)
      return close_reasoning("time");
  }
  if (limits_.loop_guard) {
    // The last tokens are one run of p tokens repeated at least 4 times (and >= 32 tokens).
    const auto& h = reasoning_ids_;
    const std::size_t n = h.size();
    for (std::size_t p = 1; p <= 64 && p * 4 <= n; ++p) {
      const std::size_t span = std::max<std::size_t>(4 * p, 32);
      if (span > n) continue;
      bool cyc = true;
      for (std::size_t i = 0; i + p < span && cyc; ++i) cyc = h[n - 1 - i] == h[n - 1 - i - p];
      if (cyc) return close_reasoning("loop");
    }
  }
}

std::optional<std::int32_t> DecodeController::forced() {
  check_limits();
  if (phase_ == Phase::kClosing && force_pos_ < force_queue_.size())
    return force_queue_[force_pos_];
  return std::nullopt;
}

const std::vector<std::uint64_t>* DecodeController::mask() {
  switch (phase_) {
    case Phase::kThinking:
    case Phase::kClosing:
      return matcher_ ? &no_end_mask_ : nullptr;
    case Phase::kStart:
    case Phase::kContent:
      break;
  }
  // <think> + </think> need two tokens of budget.
  const bool budget_zero = limits_.tokens && *limits_.tokens < 2;
  if (!matcher_) {
    if (phase_ == Phase::kStart && budget_zero) {
      mask_ = no_end_mask_;
      for (std::int32_t e : end_ids_)
        mask_[static_cast<std::size_t>(e) >> 6] |= std::uint64_t{1} << (e & 63);
      mask_[static_cast<std::size_t>(think_open_) >> 6] &=
          ~(std::uint64_t{1} << (think_open_ & 63));
      return &mask_;
    }
    return nullptr;
  }
  matcher_->fill_mask(*trie_, mask_);
  if (after_call_ && longest_call_ > 0) {
    const std::size_t left = token_limit_ > generated_ ? token_limit_ - generated_ : 0;
    bool end_allowed = false;
    for (std::int32_t e : end_ids_)
      end_allowed = end_allowed || (mask_[static_cast<std::size_t>(e) >> 6] >> (e & 63) & 1);
    // The longest call the grammar allows (bytes bound tokens), else the longest so far.
    if (!max_call_) max_call_ = text::max_rule_bytes(*grammar_, "tool-call");
    const std::size_t need = std::max(longest_call_, max_call_->value_or(0));
    if (end_allowed && left < need + 2) {  // "\n" + a call + the end token
      TokenMask only_end(mask_.size(), 0);
      for (std::int32_t e : end_ids_)
        only_end[static_cast<std::size_t>(e) >> 6] |= std::uint64_t{1} << (e & 63);
      mask_ = std::move(only_end);
    }
  }
  if (phase_ == Phase::kStart && !budget_zero)
    mask_[static_cast<std::size_t>(think_open_) >> 6] |= std::uint64_t{1} << (think_open_ & 63);
  bool any = false;
  for (auto w : mask_) any = any || w != 0;
  if (!any) {  // cannot happen with a byte-complete vocabulary; end rather than hang
    dead_end_ = true;
    for (std::int32_t e : end_ids_)
      mask_[static_cast<std::size_t>(e) >> 6] |= std::uint64_t{1} << (e & 63);
  }
  return &mask_;
}

void DecodeController::accept(std::int32_t id) {
  ++generated_;
  switch (phase_) {
    case Phase::kStart:
      if (id == think_open_) {
        phase_ = Phase::kThinking;
        reasoning_tokens_ = 1;
        think_start_ = std::chrono::steady_clock::now();
        return;
      }
      phase_ = Phase::kContent;
      break;
    case Phase::kThinking:
    case Phase::kClosing:
      ++reasoning_tokens_;
      if (phase_ == Phase::kClosing) ++force_pos_;
      if (id == think_close_) {
        phase_ = Phase::kContent;
        return;
      }
      if (limits_.loop_guard) reasoning_ids_.push_back(id);
      return;
    case Phase::kContent:
      break;
  }
  after_call_ = id == call_close_;
  if (id == call_open_) call_start_ = generated_;
  if (after_call_) longest_call_ = std::max(longest_call_, generated_ - call_start_ + 1);
  if (matcher_ && std::find(end_ids_.begin(), end_ids_.end(), id) == end_ids_.end() &&
      !matcher_->accept_token(*trie_, tok_, id))
    dead_end_ = true;  // a forced or unmasked token the grammar refuses
}

}  // namespace qwen3::engine
