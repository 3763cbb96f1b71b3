#include "text/stream_parser.h"

#include <array>

#include "common/enum_names.h"

#include "text/special_tokens.h"
#include "text/tokenizer.h"
#include "text/tool_call.h"
#include "text/utf8.h"

namespace qwen3::text {
namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kToolOpen = "<tool_call>";
constexpr std::string_view kToolClose = "</tool_call>";

// The tags each mode reacts to; anything else is text in that mode.
constexpr std::array<std::string_view, 4> kContentTags = {kThinkOpen, kThinkClose, kToolOpen,
                                                          kToolClose};
constexpr std::array<std::string_view, 2> kReasoningTags = {kThinkClose, kThinkOpen};
constexpr std::array<std::string_view, 1> kToolCallTags = {kToolClose};

bool is_markup(std::string_view t) {
  return t == kThinkOpen || t == kThinkClose || t == kToolOpen || t == kToolClose;
}

}  // namespace

constexpr NamedValue<StreamEnd> kStreamEndNames[] = {{StreamEnd::kNone, "none"},
                                                     {StreamEnd::kEndToken, "end_token"},
                                                     {StreamEnd::kLength, "length"},
                                                     {StreamEnd::kStopString, "stop_string"}};

const char* to_string(StreamEnd e) {
  return name_of(kStreamEndNames, e, "none");
}

nlohmann::ordered_json ParsedMessage::to_json() const {
  nlohmann::ordered_json calls = nlohmann::ordered_json::array();
  for (const auto& c : tool_calls) {
    calls.push_back({{"id", c.id},
                     {"type", "function"},
                     {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  }
  return {{"reasoning_content", reasoning_content}, {"content", content}, {"tool_calls", calls}};
}

OutputParser::OutputParser(StreamParserOptions options)
    : options_(std::move(options)),
      rng_(options_.id_seed ? options_.id_seed : std::random_device{}()),
      mode_(options_.starts_in_reasoning ? Mode::kReasoning : Mode::kContent) {}

void OutputParser::push_text(std::string_view bytes, std::vector<StreamEvent>& ev) {
  if (ended_) return;
  utf8_pending_.append(bytes.data(), bytes.size());
  const size_t ready = utf8::complete_prefix_length(utf8_pending_);
  if (ready == 0) return;
  std::string text = utf8::sanitize(std::string_view(utf8_pending_).substr(0, ready));
  utf8_pending_.erase(0, ready);
  push_valid(std::move(text), ev);
}

void OutputParser::finish(StreamEnd reason, std::vector<StreamEvent>& ev) {
  if (ended_) return;
  if (!utf8_pending_.empty()) {
    std::string text = utf8::sanitize(utf8_pending_);
    utf8_pending_.clear();
    push_valid(std::move(text), ev);
    if (ended_) return;  // the repaired tail completed a stop string
  }
  std::string held = std::move(stop_held_);
  stop_held_.clear();
  push_unstopped(std::move(held), ev);
  end(reason, "", ev);
}

void OutputParser::push_valid(std::string text, std::vector<StreamEvent>& ev) {
  if (options_.stop_strings.empty()) return push_unstopped(std::move(text), ev);
  std::string buf = std::move(stop_held_);
  stop_held_.clear();
  buf += text;
  size_t best = std::string::npos;
  const std::string* best_stop = nullptr;
  for (const auto& s : options_.stop_strings) {
    if (s.empty()) continue;
    size_t p = buf.find(s);
    if (p < best) {
      best = p;
      best_stop = &s;
    }
  }
  if (best_stop) {
    push_unstopped(buf.substr(0, best), ev);
    end(StreamEnd::kStopString, *best_stop, ev);
    return;
  }
  // Hold the longest tail that a later piece could complete into a stop string.
  size_t hold = 0;
  for (const auto& s : options_.stop_strings) {
    for (size_t len = std::min(s.size() - (s.empty() ? 0 : 1), buf.size()); len > hold; --len) {
      if (buf.compare(buf.size() - len, len, s, 0, len) == 0) {
        hold = len;
        break;
      }
    }
  }
  stop_held_ = buf.substr(buf.size() - hold);
  buf.resize(buf.size() - hold);
  push_unstopped(std::move(buf), ev);
}

void OutputParser::push_unstopped(std::string text, std::vector<StreamEvent>& ev) {
  std::string buf = std::move(tag_held_);
  tag_held_.clear();
  buf += text;
  size_t pos = 0;   // start of text not yet emitted
  size_t scan = 0;  // where to look for the next '<'
  while (true) {
    const size_t lt = buf.find('<', scan);
    if (lt == std::string::npos) break;
    const size_t avail = buf.size() - lt;
    std::string_view matched;
    bool partial = false;
    auto check = [&](const auto& tags) {
      for (std::string_view tag : tags) {
        if (avail >= tag.size()) {
          if (buf.compare(lt, tag.size(), tag) == 0) {
            matched = tag;
            return;
          }
        } else if (buf.compare(lt, avail, tag, 0, avail) == 0) {
          partial = true;
        }
      }
    };
    switch (mode_) {
      case Mode::kContent:
        check(kContentTags);
        break;
      case Mode::kReasoning:
        check(kReasoningTags);
        break;
      case Mode::kToolCall:
        check(kToolCallTags);
        break;
    }
    if (!matched.empty()) {
      emit_section(std::string_view(buf).substr(pos, lt - pos), ev);
      on_tag(matched, ev);
      pos = scan = lt + matched.size();
    } else if (partial) {
      emit_section(std::string_view(buf).substr(pos, lt - pos), ev);
      tag_held_ = buf.substr(lt);
      return;
    } else {
      scan = lt + 1;
    }
  }
  emit_section(std::string_view(buf).substr(pos), ev);
}

void OutputParser::on_tag(std::string_view tag, std::vector<StreamEvent>& ev) {
  switch (mode_) {
    case Mode::kContent:
      boundary();
      if (tag == kThinkOpen) {
        mode_ = Mode::kReasoning;
      } else if (tag == kToolOpen) {
        mode_ = Mode::kToolCall;
        tool_.emplace(options_.tool_format, &options_.tools);
        tool_announced_ = false;
      }  // stray closing tags are dropped
      break;
    case Mode::kReasoning:
      if (tag == kThinkClose) {
        boundary();
        mode_ = Mode::kContent;
      }  // a nested <think> is dropped
      break;
    case Mode::kToolCall:
      close_tool_call(true, ev);
      break;
  }
}

void OutputParser::boundary() {
  held_newlines_ = 0;
  section_start_ = true;
}

void OutputParser::emit_section(std::string_view t, std::vector<StreamEvent>& ev) {
  if (t.empty()) return;
  if (mode_ == Mode::kToolCall) {
    std::string args;
    tool_->push(t, args);
    announce_tool_call(std::move(args), ev);
    return;
  }
  if (section_start_) {
    const size_t b = t.find_first_not_of('\n');
    if (b == std::string_view::npos) return;
    t.remove_prefix(b);
    section_start_ = false;
  }
  const size_t e = t.find_last_not_of('\n');
  if (e == std::string_view::npos) {
    held_newlines_ += t.size();
    return;
  }
  std::string out(held_newlines_, '\n');
  out.append(t.data(), e + 1);
  held_newlines_ = t.size() - e - 1;
  emit_delta(std::move(out), ev);
}

void OutputParser::emit_delta(std::string text, std::vector<StreamEvent>& ev) {
  if (text.empty()) return;
  StreamEvent e;
  if (mode_ == Mode::kReasoning) {
    e.type = StreamEvent::Type::kReasoning;
    message_.reasoning_content += text;
  } else {
    e.type = StreamEvent::Type::kContent;
    message_.content += text;
  }
  e.text = std::move(text);
  ev.push_back(std::move(e));
}

void OutputParser::announce_tool_call(std::string args, std::vector<StreamEvent>& ev) {
  if (!tool_->started()) return;
  const int index = static_cast<int>(message_.tool_calls.size());
  if (!tool_announced_) {
    tool_announced_ = true;
    tool_id_ = make_tool_call_id(rng_);
    StreamEvent e;
    e.type = StreamEvent::Type::kToolCallBegin;
    e.index = index;
    e.tool_call.id = tool_id_;
    e.tool_call.name = tool_->name();
    ev.push_back(std::move(e));
  }
  if (args.empty()) return;
  StreamEvent e;
  e.type = StreamEvent::Type::kToolCallArguments;
  e.index = index;
  e.text = std::move(args);
  ev.push_back(std::move(e));
}

void OutputParser::close_tool_call(bool closed, std::vector<StreamEvent>& ev) {
  mode_ = Mode::kContent;
  std::string args;
  auto call = tool_->finish(args);
  if (call) {
    announce_tool_call(std::move(args), ev);
    call->id = tool_id_;
    StreamEvent e;
    e.type = StreamEvent::Type::kToolCall;
    e.index = static_cast<int>(message_.tool_calls.size());
    message_.tool_calls.push_back(*call);
    e.tool_call = std::move(*call);
    ev.push_back(std::move(e));
  } else {
    // Not a call: show the block as the model wrote it rather than lose it.
    std::string text = std::string(kToolOpen) + tool_->body();
    if (closed) text += kToolClose;
    section_start_ = false;
    emit_section(text, ev);
  }
  tool_.reset();
  boundary();
}

void OutputParser::end(StreamEnd reason, std::string stop, std::vector<StreamEvent>& ev) {
  if (!tag_held_.empty()) {
    std::string held = std::move(tag_held_);
    tag_held_.clear();
    emit_section(held, ev);
  }
  if (mode_ == Mode::kToolCall) close_tool_call(false, ev);
  if (held_newlines_ > 0) {
    emit_delta(std::string(held_newlines_, '\n'), ev);
    held_newlines_ = 0;
  }
  ended_ = true;
  message_.end = reason;
  message_.stop_string = stop;
  StreamEvent e;
  e.type = StreamEvent::Type::kEnd;
  e.end = reason;
  e.stop_string = std::move(stop);
  ev.push_back(std::move(e));
}

StreamParser::StreamParser(const Tokenizer& tokenizer, StreamParserOptions options)
    : tok_(&tokenizer), core_(std::move(options)) {}

std::vector<StreamEvent> StreamParser::push(int32_t id) {
  std::vector<StreamEvent> ev;
  if (core_.ended()) return ev;
  const std::string& bytes = tok_->token_bytes(id);
  if (tok_->is_special(id)) {
    const SpecialTokenInfo* info = find_special_token(bytes);
    if (id == tok_->im_end_id() || id == tok_->eos_id() || (info && info->ends_turn)) {
      core_.finish(StreamEnd::kEndToken, ev);
    } else if (is_markup(bytes)) {
      core_.push_text(bytes, ev);
    }  // other control tokens (vision, FIM, <tool_response>, ...) never reach the screen
    return ev;
  }
  core_.push_text(bytes, ev);
  return ev;
}

std::vector<StreamEvent> StreamParser::finish(StreamEnd reason) {
  std::vector<StreamEvent> ev;
  core_.finish(reason, ev);
  return ev;
}

ParsedMessage parse_output_text(std::string_view text, const StreamParserOptions& options) {
  OutputParser p(options);
  std::vector<StreamEvent> ev;
  p.push_text(text, ev);
  p.finish(StreamEnd::kLength, ev);
  return p.message();
}

ParsedMessage parse_output_ids(const Tokenizer& tokenizer, const std::vector<int32_t>& ids,
                               const StreamParserOptions& options) {
  StreamParser p(tokenizer, options);
  for (int32_t id : ids) {
    p.push(id);
    if (p.ended()) break;
  }
  p.finish(StreamEnd::kLength);
  return p.message();
}

}  // namespace qwen3::text
