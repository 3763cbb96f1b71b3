// Chat JSONL -> training sequences with the assistant tokens marked.
#include "train/chat_dataset.h"

#include <fstream>
#include <stdexcept>

#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace qwen3::train {
namespace {

// The ids of text[b, e), with the literal ranges that fall in it (clipped, shifted).
std::vector<int32_t> encode_piece(const Tokenizer& tok, const std::string& text,
                                  const TextRanges& literal, size_t b, size_t e) {
  TextRanges lit;
  for (const TextRange& r : literal) {
    const size_t lb = std::max(r.begin, b), le = std::min(r.end, e);
    if (lb < le) lit.push_back({lb - b, le - b});
  }
  return tok.encode_with_literals(std::string_view(text).substr(b, e - b), lit);
}

}  // namespace

TrainSequence tokenize_chat(const std::vector<text::ChatMessage>& messages,
                            const nlohmann::ordered_json& tools, const Tokenizer& tok,
                            const ChatDataOptions& opts) {
  const auto tmpl = text::ChatTemplate::for_source(tok.chat_template());
  text::TemplateOptions topts;
  if (tmpl->family().thinking_switch) topts.enable_thinking = opts.enable_thinking;
  topts.null_content_as_empty = true;
  auto render = [&](size_t n_msgs, bool gen) {
    topts.add_generation_prompt = gen;
    if (n_msgs == 0) return text::RenderedChat{};
    const std::vector<text::ChatMessage> head(messages.begin(),
                                              messages.begin() + static_cast<long>(n_msgs));
    return tmpl->render(head, tools, topts);
  };
  const text::RenderedChat full = render(messages.size(), false);
  const std::string end_tok = "<|im_end|>";
  std::vector<std::pair<size_t, size_t>> spans;  // trained byte ranges of full.text
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].role != "assistant") continue;
    const std::string before = render(i, false).text;
    const std::string prompt = render(i, true).text;
    if (full.text.compare(0, before.size(), before) != 0 ||
        prompt.compare(0, before.size(), before) != 0)
      throw std::invalid_argument("the chat template does not render message " + std::to_string(i) +
                                  " after the earlier ones");
    size_t start = before.size();
    while (start < full.text.size() && start < prompt.size() && full.text[start] == prompt[start])
      ++start;
    size_t end = full.text.find(end_tok, start);
    if (end == std::string::npos)
      throw std::invalid_argument("assistant message " + std::to_string(i) + " does not end with " +
                                  end_tok);
    end += end_tok.size();
    spans.emplace_back(start, end);
  }
  if (spans.empty()) throw std::invalid_argument("no assistant message to train on");
  TrainSequence s;
  size_t at = 0;
  auto append = [&](size_t b, size_t e, uint8_t mark) {
    if (b >= e) return;
    for (int32_t id : encode_piece(tok, full.text, full.literal, b, e)) {
      s.ids.push_back(id);
      s.target.push_back(mark);
    }
  };
  for (const auto& [b, e] : spans) {
    append(at, b, 0);
    append(b, e, 1);
    at = e;
  }
  append(at, full.text.size(), 0);
  if (opts.max_len > 0 && static_cast<int>(s.ids.size()) > opts.max_len) {
    s.ids.resize(static_cast<size_t>(opts.max_len));
    s.target.resize(static_cast<size_t>(opts.max_len));
  }
  if (!s.target.empty()) s.target[0] = 0;
  return s;
}

ChatDataset load_chat_jsonl(const std::string& path, const Tokenizer& tok,
                            const ChatDataOptions& opts) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  return parse_chat_jsonl(in, path, tok, opts);
}

ChatDataset parse_chat_jsonl(std::istream& in, const std::string& path, const Tokenizer& tok,
                             const ChatDataOptions& opts) {
  ChatDataset d;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(lineno) + ": ";
    try {
      const auto j = nlohmann::ordered_json::parse(line);
      if (!j.is_object() || !j.contains("messages"))
        throw std::invalid_argument("expected an object with \"messages\"");
      const auto msgs = text::messages_from_json(j.at("messages"));
      const nlohmann::ordered_json tools =
          j.contains("tools") ? j.at("tools") : nlohmann::ordered_json();
      TrainSequence s = tokenize_chat(msgs, tools, tok, opts);
      if (s.n_targets() == 0) {
        ++d.n_skipped;
        continue;
      }
      d.n_tokens += static_cast<int64_t>(s.ids.size());
      d.n_target_tokens += s.n_targets();
      d.sequences.push_back(std::move(s));
    } catch (const std::exception& e) {
      throw std::runtime_error(where + e.what());
    }
  }
  if (d.sequences.empty()) throw std::runtime_error(path + ": no conversation to train on");
  return d;
}

}  // namespace qwen3::train
