// TokenTrie and GrammarMatcher (see grammar_matcher.h).
#include "engine/grammar_matcher.h"

#include <algorithm>
#include <atomic>
#include <list>
#include <map>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "text/tokenizer.h"

namespace qwen3::engine {

namespace {

// Across requests: (grammar object, stacks' contents) -> mask. The entry holds the grammar
// weakly: a freed grammar's address reused by another never matches.
class SharedMaskCache {
 public:
  static constexpr std::size_t kMaxBytes = std::size_t{32} << 20;

  bool get(const std::shared_ptr<const text::CompiledGrammar>& g, const std::string& key,
           TokenMask& mask) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end() || it->second.grammar.lock() != g) {
      if (it != map_.end()) erase(it);
      ++misses_;
      return false;
    }
    lru_.splice(lru_.begin(), lru_, it->second.pos);
    mask = it->second.mask;
    ++hits_;
    return true;
  }
  void put(const std::shared_ptr<const text::CompiledGrammar>& g, const std::string& key,
           const TokenMask& mask) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it != map_.end()) erase(it);
    lru_.push_front(key);
    Entry e{g, mask, lru_.begin()};
    bytes_ += cost(key, mask);
    map_.emplace(key, std::move(e));
    while (bytes_ > kMaxBytes && !lru_.empty()) erase(map_.find(lru_.back()));
  }
  MaskCacheStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return {hits_, misses_, map_.size(), bytes_};
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    map_.clear();
    lru_.clear();
    bytes_ = 0;
    hits_ = misses_ = 0;
  }

 private:
  struct Entry {
    std::weak_ptr<const text::CompiledGrammar> grammar;
    TokenMask mask;
    std::list<std::string>::iterator pos;
  };
  static std::size_t cost(const std::string& key, const TokenMask& mask) {
    return 2 * key.size() + mask.size() * sizeof(std::uint64_t) + 64;
  }
  void erase(std::unordered_map<std::string, Entry>::iterator it) {
    bytes_ -= cost(it->first, it->second.mask);
    lru_.erase(it->second.pos);
    map_.erase(it);
  }

  std::mutex mu_;
  std::unordered_map<std::string, Entry> map_;
  std::list<std::string> lru_;  // most recent first
  std::size_t bytes_ = 0;
  std::uint64_t hits_ = 0, misses_ = 0;
};

SharedMaskCache& shared_cache() {
  static SharedMaskCache c;
  return c;
}

}  // namespace

MaskCacheStats shared_mask_cache_stats() {
  return shared_cache().stats();
}

void clear_shared_mask_cache() {
  shared_cache().clear();
}

TokenTrie TokenTrie::build(const Tokenizer& tok) {
  static std::atomic<std::uint64_t> serials{0};
  TokenTrie t;
  t.serial = ++serials;
  t.n_vocab = tok.n_vocab();
  t.end_ids = {tok.im_end_id(), tok.eos_id()};
  std::vector<std::pair<std::string, std::int32_t>> all;
  all.reserve(static_cast<std::size_t>(t.n_vocab));
  for (std::int32_t id = 0; id < t.n_vocab; ++id) {
    if (std::find(t.end_ids.begin(), t.end_ids.end(), id) != t.end_ids.end()) continue;
    std::string b;
    if (tok.is_special(id)) {
      b = text::special_token_bytes(id);
    } else {
      try {
        b = tok.token_bytes(id);
      } catch (const std::exception&) {
        continue;  // a hole in the id space
      }
      if (b.empty() || std::any_of(b.begin(), b.end(),
                                   [](char c) { return static_cast<unsigned char>(c) >= 0xF8; }))
        continue;
    }
    all.emplace_back(std::move(b), id);
  }
  std::sort(all.begin(), all.end());
  t.off.push_back(0);
  std::string_view prev;
  for (auto& [b, id] : all) {
    t.ids.push_back(id);
    std::size_t l = 0;
    while (l < prev.size() && l < b.size() && prev[l] == b[l]) ++l;
    t.lcp.push_back(static_cast<std::uint32_t>(l));
    t.blob += b;
    t.off.push_back(static_cast<std::uint32_t>(t.blob.size()));
    t.max_len = std::max(t.max_len, b.size());
    prev = b;
  }
  // `prev` pointed into `all`; lcp is already computed.
  return t;
}

std::shared_ptr<const TokenTrie> TokenTrie::of(const Tokenizer& tok) {
  // Identity: the address of the tokenizer's immutable token table plus a few tokens (a
  // freed tokenizer's address reused by another vocabulary must not match).
  static std::mutex mu;
  static std::map<std::tuple<const void*, std::int32_t, std::string>,
                  std::shared_ptr<const TokenTrie>>
      cache;
  const std::int32_t n = tok.n_vocab();
  std::string probe;
  for (std::int32_t id : {0, n / 3, n / 2, (2 * n) / 3})
    if (id >= 0 && id < n && !tok.is_special(id)) probe += tok.token_bytes(id) + '\x01';
  const auto key = std::make_tuple(static_cast<const void*>(&tok.token_bytes(0)), n, probe);
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto trie = std::make_shared<const TokenTrie>(build(tok));
  if (cache.size() > 8) cache.clear();
  cache.emplace(key, trie);
  return trie;
}

GrammarMatcher::GrammarMatcher(std::shared_ptr<const text::CompiledGrammar> g) : g_(std::move(g)) {
  simple_.resize(g_->n_states());
  for (std::size_t s = 0; s < g_->n_states(); ++s)
    simple_[s] = g_->has_bytes[s] && !g_->accepting[s] && g_->ref_begin[s] == g_->ref_begin[s + 1];
  reset();
}

std::int32_t GrammarMatcher::push_node(const Node& n) {
  if (!hashcons_) {
    arena_.push_back(n);
    return static_cast<std::int32_t>(arena_.size() - 1);
  }
  // Committed stacks share equal nodes, so equal stack sets are equal id sets (the mask
  // cache key).
  const std::uint64_t key =
      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(n.state)) << 32) |
      static_cast<std::uint32_t>(n.parent);
  auto it = node_ids_.find(key);
  if (it != node_ids_.end()) return it->second;
  arena_.push_back(n);
  const auto id = static_cast<std::int32_t>(arena_.size() - 1);
  node_ids_.emplace(key, id);
  return id;
}

void GrammarMatcher::truncate_arena(std::size_t n) {
  for (std::size_t i = n; i < arena_.size(); ++i) {
    const Node& x = arena_[i];
    const std::uint64_t key =
        (static_cast<std::uint64_t>(static_cast<std::uint32_t>(x.state)) << 32) |
        static_cast<std::uint32_t>(x.parent);
    auto it = node_ids_.find(key);
    if (it != node_ids_.end() && it->second == static_cast<std::int32_t>(i)) node_ids_.erase(it);
  }
  arena_.resize(n);
}

void GrammarMatcher::reset() {
  node_ids_.clear();
  cache_.clear();
  arena_.clear();
  stacks_.clear();
  accepting_ = false;
  close({g_->root, -1, 0}, stacks_, accepting_);
}

void GrammarMatcher::close(Node top, Set& out, bool& acc) {
  const text::CompiledGrammar& g = *g_;
  work_.clear();
  work_.push_back(top);
  const std::size_t seen_from = out.size();
  std::size_t budget = 100000;
  // Frames visited in this closure that have no bytes (dedupe against loops through
  // nullable rules); tops with bytes are deduplicated against `out`.
  static thread_local std::vector<std::pair<std::int32_t, std::int32_t>> visited;
  visited.clear();
  while (!work_.empty()) {
    if (--budget == 0) throw std::runtime_error("grammar: closure too large (ambiguous grammar)");
    const Node f = work_.back();
    work_.pop_back();
    const auto key = std::make_pair(f.state, f.parent);
    if (std::find(visited.begin(), visited.end(), key) != visited.end()) continue;
    visited.push_back(key);
    const auto s = static_cast<std::size_t>(f.state);
    if (g.has_bytes[s]) {
      bool dup = false;
      for (std::size_t k = seen_from; k < out.size(); ++k)
        if (out[k].state == f.state && out[k].parent == f.parent) dup = true;
      if (!dup) out.push_back(f);
    }
    if (g.accepting[s]) {
      if (f.parent < 0)
        acc = true;
      else
        work_.push_back(arena_[static_cast<std::size_t>(f.parent)]);
    }
    const auto rb = g.ref_begin[s], re = g.ref_begin[s + 1];
    if (rb != re && static_cast<std::size_t>(f.depth) < max_stack_depth) {
      for (auto k = rb; k < re; ++k) {
        const auto& e = g.refs[k];
        work_.push_back({e.start, push_node({e.ret, f.parent, f.depth}), f.depth + 1});
      }
    }
  }
}

bool GrammarMatcher::step(const Set& from, unsigned char b, Set& out, bool& acc) {
  out.clear();
  acc = false;
  for (const Node& f : from) {
    const std::int32_t t = g_->next(f.state, b);
    if (t < 0) continue;
    if (simple_[static_cast<std::size_t>(t)]) {
      // Inside a rule, nothing to enter or leave (string contents, digits): no closure.
      bool dup = false;
      for (const Node& o : out) dup = dup || (o.state == t && o.parent == f.parent);
      if (!dup) out.push_back({t, f.parent, f.depth});
      continue;
    }
    const std::size_t before = out.size();
    close({t, f.parent, f.depth}, out, acc);
    // Dedupe across the closures of different tops.
    for (std::size_t k = before; k < out.size();) {
      bool dup = false;
      for (std::size_t j = 0; j < before && !dup; ++j)
        dup = out[j].state == out[k].state && out[j].parent == out[k].parent;
      if (dup) {
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(k));
      } else {
        ++k;
      }
    }
    if (out.size() > 4096)
      throw std::runtime_error("grammar: too many parallel parses (ambiguous grammar)");
  }
  return !out.empty() || acc;
}

bool GrammarMatcher::advance(std::string_view bytes) {
  const std::size_t arena_mark = arena_.size();
  Set cur = stacks_, next;
  bool acc = accepting_;
  hashcons_ = true;
  for (unsigned char b : bytes) {
    if (!step(cur, b, next, acc)) {
      hashcons_ = false;
      truncate_arena(arena_mark);
      return false;
    }
    cur.swap(next);
  }
  hashcons_ = false;
  std::sort(cur.begin(), cur.end(), [](const Node& a, const Node& b) {
    return a.state != b.state ? a.state < b.state : a.parent < b.parent;
  });
  stacks_ = std::move(cur);
  accepting_ = acc;
  return true;
}

bool GrammarMatcher::accept_token(const TokenTrie& trie, const Tokenizer& tok, std::int32_t id) {
  if (std::find(trie.end_ids.begin(), trie.end_ids.end(), id) != trie.end_ids.end())
    return accepting_;
  if (tok.is_special(id)) return advance(text::special_token_bytes(id));
  const std::string& b = tok.token_bytes(id);
  for (char c : b)
    if (static_cast<unsigned char>(c) >= 0xF8) return false;
  return !b.empty() && advance(b);
}

void GrammarMatcher::fill_mask(const TokenTrie& trie, TokenMask& mask) {
  // The same stack set (same ids: nodes are shared) gives the same mask: a string's
  // contents or a repeated position cost one copy after the first walk.
  std::vector<std::int64_t> key;
  key.reserve(stacks_.size() * 2 + 1);
  key.push_back(accepting_ ? 1 : 0);
  for (const Node& n : stacks_)
    key.push_back((static_cast<std::int64_t>(n.state) << 32) |
                  static_cast<std::uint32_t>(n.parent));
  for (auto it = cache_.begin(); it != cache_.end(); ++it)
    if (it->first == key) {
      mask = it->second;
      if (it != cache_.begin()) std::iter_swap(it, cache_.begin());
      return;
    }
  const std::string content = content_key(trie);
  if (!shared_cache().get(g_, content, mask)) {
    fill_mask_uncached(trie, mask);
    shared_cache().put(g_, content, mask);
  }
  if (cache_.size() >= kMaskCache) cache_.pop_back();
  cache_.emplace(cache_.begin(), std::move(key), mask);
}

std::string GrammarMatcher::content_key(const TokenTrie& trie) const {
  auto put = [](std::string& out, std::uint64_t v, int bytes) {
    for (int k = 0; k < bytes; ++k) out += static_cast<char>((v >> (8 * k)) & 0xFF);
  };
  std::vector<std::string> stacks;
  stacks.reserve(stacks_.size());
  for (const Node& top : stacks_) {
    std::string one;
    put(one, static_cast<std::uint32_t>(top.state), 4);
    for (std::int32_t p = top.parent; p >= 0; p = arena_[static_cast<std::size_t>(p)].parent)
      put(one, static_cast<std::uint32_t>(arena_[static_cast<std::size_t>(p)].state), 4);
    put(one, 0xFFFFFFFFu, 4);  // end of this stack
    stacks.push_back(std::move(one));
  }
  std::sort(stacks.begin(), stacks.end());
  std::string key;
  put(key, trie.serial, 8);
  put(key, max_stack_depth, 4);
  key += accepting_ ? '\1' : '\0';
  for (const auto& st : stacks) key += st;
  return key;
}

void GrammarMatcher::fill_mask_uncached(const TokenTrie& trie, TokenMask& mask) {
  mask.assign((static_cast<std::size_t>(trie.n_vocab) + 63) / 64, 0);
  if (accepting_)
    for (std::int32_t e : trie.end_ids)
      mask[static_cast<std::size_t>(e) >> 6] |= std::uint64_t{1} << (e & 63);
  if (stacks_.empty()) return;
  const std::size_t arena_mark = arena_.size();
  levels_.resize(trie.max_len + 1);
  level_acc_.resize(trie.max_len + 1);
  level_arena_.resize(trie.max_len + 1);
  levels_[0] = stacks_;
  level_arena_[0] = arena_mark;
  std::size_t good = 0;  // levels_[0..good] hold the previous token's prefixes
  const std::size_t n = trie.ids.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view b = trie.bytes(i);
    std::size_t d = std::min<std::size_t>(trie.lcp[i], good);
    bool ok = true;
    for (; d < b.size(); ++d) {
      arena_.resize(level_arena_[d]);
      bool acc = false;
      if (levels_[d].empty() ||
          !step(levels_[d], static_cast<unsigned char>(b[d]), levels_[d + 1], acc)) {
        ok = false;
        break;
      }
      level_acc_[d + 1] = acc;
      level_arena_[d + 1] = arena_.size();
    }
    if (ok) {
      good = b.size();
      const std::int32_t id = trie.ids[i];
      mask[static_cast<std::size_t>(id) >> 6] |= std::uint64_t{1} << (id & 63);
    } else {
      // b[0..d] is dead: skip every following token that starts with it.
      good = d;
      while (i + 1 < n && trie.lcp[i + 1] > d) ++i;
    }
  }
  arena_.resize(arena_mark);
}

}  // namespace qwen3::engine
