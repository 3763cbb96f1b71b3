// Images in a chat prompt. A message's images (ChatMessage::images, each at a byte offset
// of its content) go through the chat template as marker text that no message holds; after
// rendering each marker becomes `<|vision_start|><|image_pad|><|vision_end|>` as template
// text (the Qwen3-VL template's image part, so its tokens are special while the same text
// typed in a message stays plain), and after tokenizing each such <|image_pad|> becomes the
// image's run of token ids (engine/vl_images.h). Turns the prompt builder drops take their
// images with them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qwen3/chat.h"
#include "text/text_range.h"

namespace qwen3::engine {

// The images of a history in prompt order (message by message, by offset).
std::vector<const ChatImage*> history_images(const ChatHistory& history);

struct ImageMarkers {
  std::string prefix;  // every marker starts with it; found in no message
  // The history with marker k (k = index into history_images) in place of image k.
  ChatHistory history;
};
ImageMarkers insert_image_markers(const ChatHistory& history);

// Rewrites the rendered prompt: each marker -> the vision tokens' text (outside every
// literal range, which are moved along). Returns the image index of each, in text order.
std::vector<int> replace_image_markers(const std::string& prefix, std::string& text,
                                       TextRanges& literal);

// ids with the i-th special <|image_pad|> (pad_id) replaced by runs[order[i]]. Throws
// std::logic_error when the pads and `order` differ in number.
std::vector<std::int32_t> expand_image_runs(const std::vector<std::int32_t>& ids,
                                            std::int32_t pad_id, const std::vector<int>& order,
                                            const std::vector<std::vector<std::int32_t>>& runs);

}  // namespace qwen3::engine
