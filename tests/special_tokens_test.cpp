// The special-token table agrees with the real tokenizer and covers all 26 tokens.
#include <gtest/gtest.h>

#include <set>

#include "text/special_tokens.h"
#include "tokenizer_test_util.h"

namespace qwen3 {
namespace {

TEST(SpecialTokens, TableMatchesTokenizer) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  std::set<int32_t> ids;
  for (const SpecialTokenInfo& t : qwen3_special_tokens()) {
    EXPECT_EQ(tok.token_id(t.text), t.id) << t.text;
    EXPECT_TRUE(tok.is_special(t.id));
    EXPECT_EQ(tok.token_bytes(t.id), t.text);
    EXPECT_EQ(find_special_token(t.text), &t);
    EXPECT_EQ(find_special_token(t.id), &t);
    ids.insert(t.id);
  }
  EXPECT_EQ(ids.size(), 26u);
  EXPECT_EQ(*ids.begin(), 151643);
  EXPECT_EQ(*ids.rbegin(), 151668);
  int added = 0;
  for (int32_t id = 0; id < tok.n_vocab(); ++id) added += tok.is_special(id);
  EXPECT_EQ(added, 26);
}

TEST(SpecialTokens, GroupsAndVisibility) {
  EXPECT_EQ(find_special_token("<|im_end|>")->group, SpecialTokenGroup::kChat);
  EXPECT_TRUE(find_special_token("<|im_end|>")->ends_turn);
  EXPECT_TRUE(find_special_token("<|endoftext|>")->ends_turn);
  EXPECT_EQ(find_special_token("<think>")->group, SpecialTokenGroup::kReasoning);
  EXPECT_EQ(find_special_token("<|fim_middle|>")->group, SpecialTokenGroup::kFillInTheMiddle);
  EXPECT_EQ(find_special_token("<|image_pad|>")->group, SpecialTokenGroup::kVision);
  EXPECT_TRUE(find_special_token("<tool_call>")->may_reach_screen);
  EXPECT_FALSE(find_special_token("<|im_start|>")->may_reach_screen);
  int visible = 0, ends = 0;
  for (const auto& t : qwen3_special_tokens()) {
    visible += t.may_reach_screen;
    ends += t.ends_turn;
    EXPECT_FALSE(group_name(t.group).empty());
  }
  EXPECT_EQ(visible, 2);
  EXPECT_EQ(ends, 2);
  EXPECT_EQ(find_special_token("<|nope|>"), nullptr);
  EXPECT_EQ(find_special_token(5), nullptr);
  EXPECT_EQ(group_name(SpecialTokenGroup::kFillInTheMiddle), "fill-in-the-middle");
}

}  // namespace
}  // namespace qwen3
