// The stream parser fed real Qwen3 token ids (tokenizer.json of the reference package):
// end tokens, dropped control tokens, tags as special tokens or as plain-text pieces,
// UTF-8 split across tokens, and token-by-token == whole-text over generated outputs.
#include <gtest/gtest.h>

#include <random>

#include "text/stream_parser.h"
#include "text/tokenizer.h"
#include "text/utf8.h"
#include "tokenizer_test_util.h"

namespace qwen3::text {
namespace {

const Tokenizer& tok() {
  return test::qwen3_tokenizer();
}

ParsedMessage by_tokens(const std::string& raw, bool parse_special = true,
                        StreamParserOptions o = {}) {
  return parse_output_ids(tok(), tok().encode(raw, parse_special), o);
}

bool contains(const std::vector<int32_t>& ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

TEST(StreamParserTokens, ThinkAndEndTokens) {
  const std::string raw = "<think>\nThe user greets.\n</think>\n\nHello!<|im_end|>ignored";
  auto ids = tok().encode(raw, true);
  ASSERT_TRUE(contains(ids, 151667));  // <think> arrives as one special token
  ASSERT_TRUE(contains(ids, 151668));
  ASSERT_TRUE(contains(ids, tok().im_end_id()));
  auto m = parse_output_ids(tok(), ids);
  EXPECT_EQ(m.reasoning_content, "The user greets.");
  EXPECT_EQ(m.content, "Hello!");
  EXPECT_EQ(m.end, StreamEnd::kEndToken);

  auto eot = by_tokens("Done.<|endoftext|>more");
  EXPECT_EQ(eot.content, "Done.");
  EXPECT_EQ(eot.end, StreamEnd::kEndToken);
  EXPECT_EQ(by_tokens("cut off").end, StreamEnd::kLength);
}

TEST(StreamParserTokens, ControlTokensNeverShow) {
  auto m = by_tokens(
      "<|vision_start|>he<|image_pad|>llo<|fim_middle|> <|box_start|>wor<|quad_end|>ld"
      "<tool_response></tool_response><|im_start|><|file_sep|>");
  EXPECT_EQ(m.content, "hello world");
}

TEST(StreamParserTokens, ToolCallFromSpecialTokens) {
  const std::string raw =
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Zürich\"}}\n"
      "</tool_call><|im_end|>";
  auto ids = tok().encode(raw, true);
  ASSERT_TRUE(contains(ids, 151657));
  ASSERT_TRUE(contains(ids, 151658));
  StreamParser p(tok());
  std::vector<StreamEvent> events;
  for (int32_t id : ids) {
    auto ev = p.push(id);
    events.insert(events.end(), ev.begin(), ev.end());
  }
  // The header once the name is known, argument pieces as tokens arrive, then the call.
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events[0].type, StreamEvent::Type::kToolCallBegin);
  EXPECT_EQ(events[0].tool_call.name, "get_weather");
  std::string joined;
  for (size_t i = 1; i + 2 < events.size(); ++i) {
    EXPECT_EQ(events[i].type, StreamEvent::Type::kToolCallArguments);
    joined += events[i].text;
  }
  const auto& call = events[events.size() - 2];
  EXPECT_EQ(call.type, StreamEvent::Type::kToolCall);
  EXPECT_EQ(call.tool_call.name, "get_weather");
  EXPECT_EQ(call.tool_call.arguments, R"({"city":"Zürich"})");
  EXPECT_EQ(joined, call.tool_call.arguments);
  EXPECT_EQ(call.tool_call.id, events[0].tool_call.id);
  EXPECT_EQ(events.back().type, StreamEvent::Type::kEnd);
  EXPECT_EQ(p.message().content, "");
}

TEST(StreamParserTokens, TagsWrittenAsPlainTextCountToo) {
  const std::string raw =
      "<think>\nplan\n</think>\n\nSure.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n"
      "</tool_call>";
  auto plain_ids = tok().encode(raw, /*parse_special=*/false);
  ASSERT_FALSE(contains(plain_ids, 151667));  // "<think>" split into ordinary tokens
  auto plain = parse_output_ids(tok(), plain_ids);
  auto special = by_tokens(raw, true);
  EXPECT_EQ(plain.reasoning_content, "plan");
  EXPECT_EQ(plain.content, "Sure.");
  ASSERT_EQ(plain.tool_calls.size(), 1u);
  EXPECT_EQ(special.reasoning_content, plain.reasoning_content);
  EXPECT_EQ(special.content, plain.content);
  ASSERT_EQ(special.tool_calls.size(), 1u);
  EXPECT_EQ(special.tool_calls[0].arguments, plain.tool_calls[0].arguments);
}

TEST(StreamParserTokens, Utf8SplitAcrossTokensIsHeld) {
  const std::string raw = "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🧑🏽‍🚀 ꧁ဪ꧂ 𓀀𓁐";
  auto ids = tok().encode(raw, true);
  int partial_tokens = 0;
  for (int32_t id : ids) partial_tokens += !utf8::is_valid(tok().token_bytes(id));
  ASSERT_GT(partial_tokens, 0) << "the sample should split characters across tokens";
  StreamParser p(tok());
  std::string joined;
  for (int32_t id : ids) {
    for (const auto& e : p.push(id)) {
      EXPECT_TRUE(utf8::is_valid(e.text));
      joined += e.text;
    }
  }
  for (const auto& e : p.finish()) joined += e.text;
  EXPECT_EQ(joined, raw);
}

TEST(StreamParserTokens, ThinkingOpenAndStopStrings) {
  StreamParserOptions o;
  o.starts_in_reasoning = true;
  auto m = by_tokens("Reason first.\n</think>\n\nAnswer.<|im_end|>", true, o);
  EXPECT_EQ(m.reasoning_content, "Reason first.");
  EXPECT_EQ(m.content, "Answer.");
  StreamParserOptions s;
  s.stop_strings = {"Observation:"};
  auto st = by_tokens("Thought: go\nObservation: none", true, s);
  EXPECT_EQ(st.content, "Thought: go\n");
  EXPECT_EQ(st.end, StreamEnd::kStopString);
}

// Token by token (tags as special tokens, or as plain text) == the whole text at once.
TEST(StreamParserTokens, TokenByTokenEqualsWholeText) {
  static const char* kPieces[] = {
      "<think>",
      "</think>",
      "<tool_call>",
      "</tool_call>",
      "\n",
      "\n\n",
      "Hello",
      " there",
      "é",
      "日本語",
      "🎉",
      "👩‍👩‍👧",
      "𝔘",
      "<thi",
      "</tool_",
      "<",
      "a<b",
      "x>y",
      "{\"name\": \"f\", \"arguments\": {\"q\": \"é \\\"x\\\"\", \"n\": [1, 2.5]}}",
      "{\"name\": 3}",
      "{oops",
      "\n<tool_call>\n{\"name\": \"g\", \"arguments\": {}}\n</tool_call>",
      "  ",
      "\t",
      "ok.",
      "<|vision_pad|>",
      "<|fim_prefix|>",
      "<|im_end|>",
      "<|endoftext|>"};
  const size_t n_pieces = sizeof kPieces / sizeof *kPieces;
  std::mt19937 rng(777);
  std::uniform_int_distribution<size_t> count(0, 20), which(0, n_pieces - 1);
  for (int iter = 0; iter < 600; ++iter) {
    std::string raw, visible;  // visible: control tokens removed, cut at the first end
    bool ended = false;
    for (size_t i = count(rng); i > 0; --i) {
      std::string p = kPieces[which(rng)];
      raw += p;
      if (ended) continue;
      if (p == "<|im_end|>" || p == "<|endoftext|>") {
        ended = true;
      } else if (p.rfind("<|", 0) != 0) {
        visible += p;
      }
    }
    StreamParserOptions o;
    o.starts_in_reasoning = iter % 4 == 0;
    SCOPED_TRACE(::testing::PrintToString(raw));
    const ParsedMessage whole = parse_output_text(visible, o);
    std::vector<ParsedMessage> fed = {by_tokens(raw, true, o)};
    if (raw.find("<|") == std::string::npos) fed.push_back(by_tokens(raw, false, o));
    for (const auto& m : fed) {
      EXPECT_EQ(m.reasoning_content, whole.reasoning_content);
      EXPECT_EQ(m.content, whole.content);
      EXPECT_EQ(m.end, ended ? StreamEnd::kEndToken : StreamEnd::kLength);
      ASSERT_EQ(m.tool_calls.size(), whole.tool_calls.size());
      for (size_t k = 0; k < m.tool_calls.size(); ++k) {
        EXPECT_EQ(m.tool_calls[k].name, whole.tool_calls[k].name);
        EXPECT_EQ(m.tool_calls[k].arguments, whole.tool_calls[k].arguments);
      }
    }
  }
}

}  // namespace
}  // namespace qwen3::text
