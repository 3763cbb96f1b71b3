// libFuzzer target for `qwen3 finetune`'s training data reader (train/chat_dataset.h):
// the first byte picks the options (thinking on/off, a max_len of 0..127 tokens), the
// rest is a JSONL file read with parse_chat_jsonl and the real Qwen3 tokenizer and chat
// template. Every input must load or be a std::runtime_error (naming the line); a loaded
// dataset must be consistent: each sequence has as many target marks as ids, ids in the
// vocabulary, at most max_len tokens, at least one trained token (target[0] never), and
// the totals add up. Anything else (a crash, a sanitizer report, another exception) is a
// finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>

#include "text/tokenizer.h"
#include "train/chat_dataset.h"

namespace {

using namespace qwen3;

const Tokenizer& tokenizer() {
  static const Tokenizer tok =
      Tokenizer::from_file(std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer.json");
  return tok;
}

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "inconsistent dataset: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tokenizer();  // loaded once, outside the timed inputs
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  train::ChatDataOptions opts;
  opts.enable_thinking = (data[0] & 0x80) != 0;
  opts.max_len = data[0] & 0x7f;  // 0 = no limit
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  train::ChatDataset d;
  try {
    d = train::parse_chat_jsonl(in, "fuzz.jsonl", tokenizer(), opts);
  } catch (const std::runtime_error&) {
    return 0;
  }
  check(!d.sequences.empty(), "no sequence but no error");
  int64_t n_tokens = 0, n_targets = 0;
  const int32_t n_vocab = tokenizer().n_vocab();
  for (const train::TrainSequence& s : d.sequences) {
    check(s.ids.size() == s.target.size(), "ids and target marks differ in length");
    check(opts.max_len == 0 || s.ids.size() <= static_cast<size_t>(opts.max_len),
          "a sequence longer than max_len");
    check(s.target.empty() || s.target[0] == 0, "the first token is marked");
    check(s.n_targets() > 0, "a sequence without trained tokens");
    for (int32_t id : s.ids) check(id >= 0 && id < n_vocab, "an id outside the vocabulary");
    n_tokens += static_cast<int64_t>(s.ids.size());
    n_targets += s.n_targets();
  }
  check(n_tokens == d.n_tokens && n_targets == d.n_target_tokens, "totals do not add up");
  check(d.n_skipped >= 0, "negative skip count");
  return 0;
}
