// The 26 added tokens of Qwen3's tokenizer (ids 151643..151668): what each is for and
// whether its text may ever be shown to a user. Other layers (stream parser, chat
// template, server) decide what to drop or hide from this table, not from spellings.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace qwen3 {

enum class SpecialTokenGroup {
  kEndOfText,        // <|endoftext|>
  kChat,             // <|im_start|>, <|im_end|>
  kReasoning,        // <think>, </think>
  kTool,             // <tool_call>, </tool_call>, <tool_response>, </tool_response>
  kFillInTheMiddle,  // <|fim_prefix|>, <|fim_middle|>, <|fim_suffix|>, <|fim_pad|>
  kVision,           // object refs, boxes, quads, vision/image/video markers
  kOther,            // <|repo_name|>, <|file_sep|> (repository-level code context)
};

struct SpecialTokenInfo {
  int32_t id;  // in Qwen3's tokenizer.json; other files: look the text up
  std::string_view text;
  SpecialTokenGroup group;
  // True only for tokens a parser may leave in visible content: a <tool_call> block
  // that is not a valid call stays visible as text instead of being dropped.
  bool may_reach_screen;
  bool ends_turn;  // generation stops at it (<|im_end|>, <|endoftext|>)
};

inline constexpr int kNumQwen3SpecialTokens = 26;
const std::array<SpecialTokenInfo, kNumQwen3SpecialTokens>& qwen3_special_tokens();

const SpecialTokenInfo* find_special_token(std::string_view text);  // nullptr if none
const SpecialTokenInfo* find_special_token(int32_t qwen3_id);       // nullptr if none

std::string_view group_name(SpecialTokenGroup g);  // "chat", "fill-in-the-middle", ...

}  // namespace qwen3
