// Runs a compiled grammar (text/grammar.h) over bytes and computes, per decode step, the
// set of tokens that keep the output inside the grammar.
//
// TokenTrie: the vocabulary sorted by bytes with the longest common prefix of neighbours,
// built once per tokenizer and shared: the mask walk evaluates a shared prefix once and
// skips every token under a rejected prefix. Special tokens appear as 0xFF + 3 id bytes
// (which a grammar reaches only through `<[ID]>`); tokens holding bytes 0xF8..0xFF (never
// in UTF-8) and the end tokens are left out (the end is allowed when the grammar accepts).
//
// Masks are cached twice: per matcher by its stack-set ids (a string's contents repeat a
// state), and process-wide across requests by the grammar object plus the stacks' contents
// (the state sequences), so a schema compiled once (structured_output.h caches grammars by
// their text) computes each parser state's mask once for every request that reaches it.
//
// GrammarMatcher: a set of stacks of DFA states. A stack is its top state plus a parent
// node in an append-only arena (persistent, so stacks share their tails and advancing
// copies nothing); a byte moves each top along its rule's DFA, entering referenced rules
// and returning from finished ones. Rolling back = restoring the set and the arena size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/grammar.h"

namespace qwen3 {
class Tokenizer;
}

namespace qwen3::engine {

struct TokenTrie {
  std::int32_t n_vocab = 0;
  std::vector<std::int32_t> ids;      // tokens in byte order
  std::vector<std::uint32_t> off;     // ids.size() + 1 offsets into blob
  std::string blob;                   // the tokens' bytes, concatenated
  std::vector<std::uint32_t> lcp;     // common prefix with the previous token
  std::vector<std::int32_t> end_ids;  // <|im_end|>, <|endoftext|>
  std::size_t max_len = 0;
  std::uint64_t serial = 0;  // unique per build() in this process (mask cache identity)

  std::string_view bytes(std::size_t i) const {
    return std::string_view(blob).substr(off[i], off[i + 1] - off[i]);
  }
  // Built once per tokenizer (cached process-wide by the tokenizer's identity).
  static std::shared_ptr<const TokenTrie> of(const Tokenizer& tok);
  static TokenTrie build(const Tokenizer& tok);
};

// A bitset over the vocabulary: bit i set = token i allowed.
using TokenMask = std::vector<std::uint64_t>;
inline bool mask_test(const TokenMask& m, std::int32_t id) {
  return (m[static_cast<std::size_t>(id) >> 6] >> (id & 63)) & 1u;
}

// The process-wide mask cache (bounded by bytes, least recently used first out).
struct MaskCacheStats {
  std::uint64_t hits = 0, misses = 0;
  std::size_t entries = 0, bytes = 0;
};
MaskCacheStats shared_mask_cache_stats();
void clear_shared_mask_cache();

class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<const text::CompiledGrammar> g);

  void reset();
  // Consumes bytes; false (state unchanged) if the grammar does not allow them.
  bool advance(std::string_view bytes);
  // The grammar is complete here (the end token may come).
  bool accepting() const { return accepting_; }
  // No byte can follow (only the end).
  bool finished() const { return stacks_.empty(); }

  // The allowed tokens of the trie's vocabulary (end tokens iff accepting()).
  void fill_mask(const TokenTrie& trie, TokenMask& mask);
  // Consumes a token's bytes (special tokens: their 0xFF form); false if not allowed.
  bool accept_token(const TokenTrie& trie, const Tokenizer& tok, std::int32_t id);

  std::size_t max_stack_depth = 1024;  // deeper nesting is not followed

 private:
  struct Node {
    std::int32_t state;
    std::int32_t parent;  // arena index, -1 = bottom
    std::int32_t depth;
  };
  using Set = std::vector<Node>;  // tops (parent/depth of the top itself)
  // Adds the stacks reachable from `top` without consuming a byte to `out`.
  void close(Node top, Set& out, bool& acc);
  bool step(const Set& from, unsigned char b, Set& out, bool& acc);

  std::int32_t push_node(const Node& n);
  void truncate_arena(std::size_t n);
  void fill_mask_uncached(const TokenTrie& trie, TokenMask& mask);
  // The stacks' contents as bytes: trie serial, accepting, then each stack's states from
  // top to bottom, stacks sorted (equal parser states give equal keys in any matcher).
  std::string content_key(const TokenTrie& trie) const;

  std::shared_ptr<const text::CompiledGrammar> g_;
  std::vector<char> simple_;  // has bytes, no refs, not accepting: stepping needs no closure
  bool hashcons_ = false;     // advance(): equal nodes share one id
  std::unordered_map<std::uint64_t, std::int32_t> node_ids_;
  static constexpr std::size_t kMaskCache = 16;
  std::vector<std::pair<std::vector<std::int64_t>, TokenMask>> cache_;  // most recent first
  std::vector<Node> arena_;
  Set stacks_;
  bool accepting_ = false;
  // Scratch
  std::vector<Node> work_;
  std::vector<Set> levels_;
  std::vector<char> level_acc_;
  std::vector<std::size_t> level_arena_;
};

}  // namespace qwen3::engine
