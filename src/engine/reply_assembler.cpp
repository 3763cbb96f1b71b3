// Token-level reply parsing: <think>, </think>, <tool_call>, </tool_call> are single
// special tokens in the Qwen3 vocabulary, so the markup is found by id; text between is
// decoded with an IncrementalDecoder so deltas are whole UTF-8 characters. Newlines that
// the template puts around reasoning and content (<think>\n ... \n</think>\n\n) are
// stripped like the model card's strip("\n"): leading ones dropped, trailing ones held
// until more text follows.
#include "engine/reply_assembler.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <random>

#include "engine/stop_strings.h"
#include "text/tokenizer.h"

namespace qwen3::engine {
namespace {

enum class Section { kContent, kReasoning, kToolCall };

std::optional<std::int32_t> special(const Tokenizer& tok, const char* text) {
  return tok.token_id(text);
}

// Strips leading newlines of a section and holds back trailing ones.
class NewlineTrimmer {
 public:
  std::string push(std::string_view d) {
    std::string out;
    for (char c : d) {
      if (c == '\n') {
        if (started_) ++held_;
        continue;
      }
      out.append(held_, '\n');
      held_ = 0;
      started_ = true;
      out.push_back(c);
    }
    return out;
  }
  void reset() { started_ = false, held_ = 0; }

 private:
  bool started_ = false;
  std::size_t held_ = 0;
};

std::string random_call_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id = "call_";
  for (int i = 0; i < 16; ++i) id.push_back(hex[rng() % 16]);
  return id;
}

}  // namespace

struct ReplyAssembler::Impl {
  const Tokenizer& tok;
  IncrementalDecoder decoder;
  StreamerBase* streamer;
  StopStringMatcher stops;
  Section section;
  NewlineTrimmer reasoning_trim, content_trim;
  std::string tool_text;
  std::optional<std::int32_t> think_open, think_close, tool_open, tool_close;

  Impl(const Tokenizer& t, bool in_reasoning, std::vector<std::string> s, StreamerBase* st)
      : tok(t),
        decoder(t, /*skip_special=*/true),
        streamer(st),
        stops(std::move(s)),
        section(in_reasoning ? Section::kReasoning : Section::kContent),
        think_open(special(t, "<think>")),
        think_close(special(t, "</think>")),
        tool_open(special(t, "<tool_call>")),
        tool_close(special(t, "</tool_call>")) {}
};

ReplyAssembler::ReplyAssembler(const Tokenizer& tok, bool starts_in_reasoning,
                               std::vector<std::string> stops, StreamerBase* streamer)
    : impl_(std::make_unique<Impl>(tok, starts_in_reasoning, std::move(stops), streamer)) {}

ReplyAssembler::~ReplyAssembler() = default;

namespace {

bool go_on(StreamingStatus s) { return s == StreamingStatus::kContinue; }

}  // namespace

bool ReplyAssembler::push(std::int32_t id) {
  Impl& s = *impl_;
  if (s.streamer && !go_on(s.streamer->on_token(id))) {
    cancelled_ = true;
    return false;
  }
  auto emit_reasoning = [&](const std::string& raw) {
    const std::string d = s.reasoning_trim.push(raw);
    if (d.empty()) return true;
    reasoning_ += d;
    if (s.streamer && !go_on(s.streamer->on_reasoning(d))) return cancelled_ = true, false;
    return true;
  };
  auto emit_content = [&](const std::string& raw) {
    const std::string d = s.stops.push(s.content_trim.push(raw));
    if (!d.empty()) {
      content_ += d;
      if (s.streamer && !go_on(s.streamer->on_content(d))) return cancelled_ = true, false;
    }
    if (s.stops.stopped()) return stop_hit_ = true, false;
    return true;
  };
  auto emit = [&](const std::string& text) {
    switch (s.section) {
      case Section::kReasoning: return emit_reasoning(text);
      case Section::kContent: return emit_content(text);
      case Section::kToolCall: s.tool_text += text; return true;
    }
    return true;
  };

  if (id == s.think_open && s.section == Section::kContent) {
    if (!emit(s.decoder.flush())) return false;
    s.section = Section::kReasoning;
    s.reasoning_trim.reset();
    return true;
  }
  if (id == s.think_close && s.section == Section::kReasoning) {
    if (!emit(s.decoder.flush())) return false;
    s.section = Section::kContent;
    s.content_trim.reset();
    return true;
  }
  if (id == s.tool_open && s.section != Section::kToolCall) {
    if (!emit(s.decoder.flush())) return false;
    s.section = Section::kToolCall;
    s.tool_text.clear();
    return true;
  }
  if (id == s.tool_close && s.section == Section::kToolCall) {
    s.tool_text += s.decoder.flush();
    s.section = Section::kContent;
    s.content_trim.reset();
    ToolCall call;
    bool ok = false;
    try {
      const auto j = nlohmann::ordered_json::parse(s.tool_text);
      if (j.is_object() && j.contains("name") && j["name"].is_string()) {
        call.name = j["name"].get<std::string>();
        const auto args = j.value("arguments", nlohmann::ordered_json::object());
        call.arguments = args.is_string() ? args.get<std::string>() : args.dump();
        ok = true;
      }
    } catch (const nlohmann::json::exception&) {
    }
    if (!ok)  // Not a well-formed call: keep the text visible rather than lose it.
      return emit_content("<tool_call>" + s.tool_text + "</tool_call>");
    call.id = random_call_id();
    tool_calls_.push_back(call);
    if (s.streamer &&
        !go_on(s.streamer->on_tool_call(static_cast<int>(tool_calls_.size()) - 1, call)))
      return cancelled_ = true, false;
    return true;
  }
  return emit(s.decoder.push(id));  // other special tokens decode to "" (skipped)
}

void ReplyAssembler::finish() {
  Impl& s = *impl_;
  const std::string tail = s.decoder.flush();
  switch (s.section) {
    case Section::kReasoning: {
      const std::string d = s.reasoning_trim.push(tail);
      reasoning_ += d;
      if (s.streamer && !d.empty()) s.streamer->on_reasoning(d);
      break;
    }
    case Section::kToolCall:  // unterminated call (length limit): show it as text
      s.tool_text += tail;
      s.section = Section::kContent;
      {
        const std::string d = s.stops.push("<tool_call>" + s.tool_text);
        content_ += d;
        if (s.streamer && !d.empty()) s.streamer->on_content(d);
      }
      break;
    case Section::kContent: {
      const std::string d = s.stops.push(s.content_trim.push(tail));
      content_ += d;
      if (s.streamer && !d.empty()) s.streamer->on_content(d);
      break;
    }
  }
  const std::string held = s.stops.flush();
  content_ += held;
  if (s.streamer && !held.empty()) s.streamer->on_content(held);
}

}  // namespace qwen3::engine
