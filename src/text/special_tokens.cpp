#include "text/special_tokens.h"

#include "common/enum_names.h"
namespace qwen3 {

const std::array<SpecialTokenInfo, kNumQwen3SpecialTokens>& qwen3_special_tokens() {
  using G = SpecialTokenGroup;
  static constexpr std::array<SpecialTokenInfo, kNumQwen3SpecialTokens> kTable = {{
      {151643, "<|endoftext|>", G::kEndOfText, false, true},
      {151644, "<|im_start|>", G::kChat, false, false},
      {151645, "<|im_end|>", G::kChat, false, true},
      {151646, "<|object_ref_start|>", G::kVision, false, false},
      {151647, "<|object_ref_end|>", G::kVision, false, false},
      {151648, "<|box_start|>", G::kVision, false, false},
      {151649, "<|box_end|>", G::kVision, false, false},
      {151650, "<|quad_start|>", G::kVision, false, false},
      {151651, "<|quad_end|>", G::kVision, false, false},
      {151652, "<|vision_start|>", G::kVision, false, false},
      {151653, "<|vision_end|>", G::kVision, false, false},
      {151654, "<|vision_pad|>", G::kVision, false, false},
      {151655, "<|image_pad|>", G::kVision, false, false},
      {151656, "<|video_pad|>", G::kVision, false, false},
      {151657, "<tool_call>", G::kTool, true, false},
      {151658, "</tool_call>", G::kTool, true, false},
      {151659, "<|fim_prefix|>", G::kFillInTheMiddle, false, false},
      {151660, "<|fim_middle|>", G::kFillInTheMiddle, false, false},
      {151661, "<|fim_suffix|>", G::kFillInTheMiddle, false, false},
      {151662, "<|fim_pad|>", G::kFillInTheMiddle, false, false},
      {151663, "<|repo_name|>", G::kOther, false, false},
      {151664, "<|file_sep|>", G::kOther, false, false},
      {151665, "<tool_response>", G::kTool, false, false},
      {151666, "</tool_response>", G::kTool, false, false},
      {151667, "<think>", G::kReasoning, false, false},
      {151668, "</think>", G::kReasoning, false, false},
  }};
  return kTable;
}

const SpecialTokenInfo* find_special_token(std::string_view text) {
  for (const auto& t : qwen3_special_tokens()) {
    if (t.text == text) return &t;
  }
  return nullptr;
}

const SpecialTokenInfo* find_special_token(int32_t id) {
  const auto& table = qwen3_special_tokens();
  const int32_t first = table.front().id;
  if (id < first || id >= first + kNumQwen3SpecialTokens) return nullptr;
  return &table[static_cast<size_t>(id - first)];
}

constexpr NamedValue<SpecialTokenGroup> kGroupNames[] = {
    {SpecialTokenGroup::kEndOfText, "end-of-text"},
    {SpecialTokenGroup::kChat, "chat"},
    {SpecialTokenGroup::kReasoning, "reasoning"},
    {SpecialTokenGroup::kTool, "tool"},
    {SpecialTokenGroup::kFillInTheMiddle, "fill-in-the-middle"},
    {SpecialTokenGroup::kVision, "vision"},
    {SpecialTokenGroup::kOther, "other"}};

std::string_view group_name(SpecialTokenGroup g) {
  return name_of(kGroupNames, g, "other");
}

}  // namespace qwen3
