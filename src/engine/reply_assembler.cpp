// ReplyAssembler on top of text::StreamParser, which owns the Qwen3 output rules (think
// and tool-call markup, special-token filtering, newline trimming, stop strings).
#include "engine/reply_assembler.h"

#include "text/json_limits.h"
#include "text/stream_parser.h"
#include "text/tokenizer.h"

namespace qwen3::engine {

struct ReplyAssembler::Impl {
  text::StreamParser parser;
  StreamerBase* streamer;
  Impl(const Tokenizer& tok, text::StreamParserOptions o, StreamerBase* s)
      : parser(tok, std::move(o)), streamer(s) {}
};

ReplyAssembler::ReplyAssembler(const Tokenizer& tok, bool starts_in_reasoning,
                               std::vector<std::string> stops, StreamerBase* streamer,
                               bool xml_tool_calls, const std::string& tools_json) {
  text::StreamParserOptions o;
  o.starts_in_reasoning = starts_in_reasoning;
  if (xml_tool_calls) {
    o.tool_format = text::ToolCallFormat::kXml;
    try {
      if (!tools_json.empty()) o.tools = text::parse_json(tools_json);
    } catch (const text::JsonError&) {
      // the prompt builder has already rejected malformed tools
    }
  }
  o.stop_strings = std::move(stops);
  impl_ = std::make_unique<Impl>(tok, std::move(o), streamer);
}

ReplyAssembler::~ReplyAssembler() = default;

bool ReplyAssembler::deliver(const std::vector<text::StreamEvent>& events) {
  StreamerBase* s = cancelled_ ? nullptr : impl_->streamer;  // silent once cancelled
  bool go_on = true;
  auto check = [&](StreamingStatus st) {
    if (st == StreamingStatus::kStop) {
      cancelled_ = true;
      go_on = false;
      s = nullptr;
    }
  };
  for (const auto& e : events) {
    switch (e.type) {
      case text::StreamEvent::Type::kReasoning:
        reasoning_ += e.text;
        if (s) check(s->on_reasoning(e.text));
        break;
      case text::StreamEvent::Type::kContent:
        content_ += e.text;
        if (s) check(s->on_content(e.text));
        break;
      case text::StreamEvent::Type::kToolCallBegin:
        if (s) check(s->on_tool_call_begin(e.index, e.tool_call));
        break;
      case text::StreamEvent::Type::kToolCallArguments:
        if (s) check(s->on_tool_call_arguments(e.index, e.text));
        break;
      case text::StreamEvent::Type::kToolCall:
        tool_calls_.push_back(e.tool_call);
        if (s) check(s->on_tool_call(static_cast<int>(tool_calls_.size()) - 1, e.tool_call));
        break;
      case text::StreamEvent::Type::kEnd:
        if (e.end == text::StreamEnd::kStopString) {
          stop_hit_ = true;
          go_on = false;
        }
        break;
    }
  }
  return go_on;
}

bool ReplyAssembler::push(std::int32_t id) {
  if (impl_->streamer && impl_->streamer->on_token(id) == StreamingStatus::kStop) {
    cancelled_ = true;
    return false;
  }
  return deliver(impl_->parser.push(id));
}

void ReplyAssembler::finish() {
  if (!impl_->parser.ended()) deliver(impl_->parser.finish(text::StreamEnd::kLength));
}

}  // namespace qwen3::engine
