// LoraAdapter: the target table, pair bookkeeping, the base-model check and the loader
// dispatch (see lora_adapter.h).
#include "model/lora_adapter.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

namespace qwen3 {

namespace {

struct TargetNames {
  std::string_view peft, gguf;
};
constexpr TargetNames kNames[kNumLoraTargets] = {
    {"q_proj", "attn_q"},      {"k_proj", "attn_k"},      {"v_proj", "attn_v"},
    {"o_proj", "attn_output"}, {"gate_proj", "ffn_gate"}, {"up_proj", "ffn_up"},
    {"down_proj", "ffn_down"}};

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string_view lora_target_peft_name(LoraTarget t) {
  return kNames[static_cast<int>(t)].peft;
}
std::string_view lora_target_gguf_name(LoraTarget t) {
  return kNames[static_cast<int>(t)].gguf;
}

int lora_target_in(const Qwen3Config& c, LoraTarget t) {
  switch (t) {
    case LoraTarget::kO:
      return c.q_dim();
    case LoraTarget::kDown:
      return c.is_moe() ? c.n_ff_exp : c.n_ff;
    default:
      return c.n_embd;
  }
}

int lora_target_out(const Qwen3Config& c, LoraTarget t) {
  switch (t) {
    case LoraTarget::kQ:
      return c.q_dim();
    case LoraTarget::kK:
    case LoraTarget::kV:
      return c.kv_dim();
    case LoraTarget::kGate:
    case LoraTarget::kUp:
      return c.is_moe() ? c.n_ff_exp : c.n_ff;
    default:
      return c.n_embd;
  }
}

LoraAdapter::LoraAdapter(std::string path, std::string format, std::string arch)
    : path_(std::move(path)), format_(std::move(format)), arch_(std::move(arch)) {
  static std::atomic<std::uint64_t> next_id{1};
  id_ = next_id.fetch_add(1);
  lossy_f16_ = lora_lossy_f16();
}

namespace {
std::atomic<bool> g_lossy_f16{false};
}  // namespace

void set_lora_lossy_f16(bool on) {
  g_lossy_f16.store(on);
}

bool lora_lossy_f16() {
  return g_lossy_f16.load();
}

void LoraAdapter::add(int layer, LoraTarget t, LoraMatrices m) {
  const std::string what =
      path_ + ": layer " + std::to_string(layer) + " " + std::string(lora_target_peft_name(t));
  if (layer < 0 || layer >= 4096) throw std::runtime_error(what + ": bad layer index");
  if (m.rank <= 0) throw std::runtime_error(what + ": LoRA rank 0");
  if (m.in <= 0 || m.out <= 0) throw std::runtime_error(what + ": empty LoRA matrix");
  if (m.a.size() != static_cast<size_t>(m.rank) * static_cast<size_t>(m.in) ||
      m.b.size() != static_cast<size_t>(m.out) * static_cast<size_t>(m.rank))
    throw std::runtime_error(what + ": LoRA A/B sizes do not match rank " + std::to_string(m.rank));
  if (static_cast<size_t>(layer) >= slots_.size()) {
    std::array<int, kNumLoraTargets> none;
    none.fill(-1);
    slots_.resize(static_cast<size_t>(layer) + 1, none);
  }
  int& slot = slots_[static_cast<size_t>(layer)][static_cast<size_t>(t)];
  if (slot >= 0) throw std::runtime_error(what + ": given twice");
  slot = static_cast<int>(mats_.size());
  if (!arena_) arena_ = std::make_unique<LoraArena>();
  packed_.push_back(pack_lora(m.a, m.b, m.rank, m.in, m.out, lossy_f16_, arena_.get()));
  mats_.push_back(std::move(m));
}

const LoraMatrices* LoraAdapter::find(int layer, LoraTarget t) const {
  if (layer < 0 || static_cast<size_t>(layer) >= slots_.size()) return nullptr;
  const int i = slots_[static_cast<size_t>(layer)][static_cast<size_t>(t)];
  return i < 0 ? nullptr : &mats_[static_cast<size_t>(i)];
}

bool LoraAdapter::view(int layer, LoraTarget t, LoraView* out) const {
  if (layer < 0 || static_cast<size_t>(layer) >= slots_.size()) return false;
  const int i = slots_[static_cast<size_t>(layer)][static_cast<size_t>(t)];
  if (i < 0) return false;
  const LoraMatrices& m = mats_[static_cast<size_t>(i)];
  *out = lora_view(packed_[static_cast<size_t>(i)], m.a.data(), m.rank, m.in, m.out, m.scale);
  return true;
}

int LoraAdapter::max_rank() const {
  int r = 0;
  for (const auto& m : mats_) r = std::max(r, m.rank);
  return r;
}

std::vector<LoraTarget> LoraAdapter::targets() const {
  std::vector<LoraTarget> out;
  for (int t = 0; t < kNumLoraTargets; ++t)
    for (const auto& s : slots_)
      if (s[static_cast<size_t>(t)] >= 0) {
        out.push_back(static_cast<LoraTarget>(t));
        break;
      }
  return out;
}

void LoraAdapter::check_base(const Qwen3Config& c) const {
  if (!arch_.empty() && arch_ != c.arch)
    throw std::runtime_error(path_ + ": LoRA adapter for architecture '" + arch_ +
                             "', but the model is '" + c.arch + "'");
  if (mats_.empty()) throw std::runtime_error(path_ + ": the LoRA adapter has no matrices");
  if (c.is_moe())
    for (LoraTarget t : targets())
      if (t >= LoraTarget::kGate)
        throw std::runtime_error(path_ + ": " + std::string(lora_target_peft_name(t)) +
                                 ": LoRA on the experts of a mixture-of-experts model is not "
                                 "supported (attention projections only)");
  for (size_t l = 0; l < slots_.size(); ++l)
    for (int t = 0; t < kNumLoraTargets; ++t) {
      const int i = slots_[l][static_cast<size_t>(t)];
      if (i < 0) continue;
      const auto tgt = static_cast<LoraTarget>(t);
      const std::string what =
          path_ + ": layer " + std::to_string(l) + " " + std::string(lora_target_peft_name(tgt));
      if (static_cast<int>(l) >= c.n_layers)
        throw std::runtime_error(what + ": the model has only " + std::to_string(c.n_layers) +
                                 " layers (adapter made for another base model?)");
      const LoraMatrices& m = mats_[static_cast<size_t>(i)];
      const int in = lora_target_in(c, tgt), out = lora_target_out(c, tgt);
      if (m.in != in || m.out != out)
        throw std::runtime_error(what + ": LoRA shape " + std::to_string(m.out) + " x " +
                                 std::to_string(m.in) + " does not match the model's " +
                                 std::to_string(out) + " x " + std::to_string(in) +
                                 " (adapter made for another base model?)");
    }
}

std::shared_ptr<const LoraAdapter> LoraAdapter::load(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw std::runtime_error(path + ": no such LoRA adapter (a PEFT folder or an adapter GGUF)");
  if (is_dir(path) || ends_with(path, ".json") || ends_with(path, ".safetensors"))
    return load_peft_adapter(path);
  return load_gguf_adapter(path);
}

std::shared_ptr<const LoraAdapter> LoraAdapter::load_shared(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<const LoraAdapter>> cache;
  std::string key = path;
  if (char* real = ::realpath(path.c_str(), nullptr)) {
    key = real;
    std::free(real);
  }
  if (lora_lossy_f16()) key = "lossy-f16:" + key;  // another run-time copy of the file
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(key); it != cache.end())
      if (auto sp = it->second.lock()) return sp;
  }
  auto loaded = load(path);  // outside the lock: loading takes a while
  std::lock_guard<std::mutex> lock(mu);
  if (auto sp = cache[key].lock()) return sp;
  cache[key] = loaded;
  return loaded;
}

bool LoraSet::active() const {
  for (const auto& e : entries)
    if (e.adapter && e.scale != 0.0f) return true;
  return false;
}

std::string LoraSet::key() const {
  std::string k;
  for (const auto& e : entries) {
    if (!e.adapter || e.scale == 0.0f) continue;
    std::uint32_t bits;
    std::memcpy(&bits, &e.scale, sizeof bits);
    k += std::to_string(e.adapter->id()) + "*" + std::to_string(bits) + ";";
  }
  return k;
}

std::shared_ptr<const LoraSet> load_lora_set(
    const std::vector<std::pair<std::string, float>>& adapters, const Qwen3Config& c) {
  auto set = std::make_shared<LoraSet>();
  for (const auto& a : adapters) {
    auto ad = LoraAdapter::load_shared(a.first);
    ad->check_base(c);
    set->entries.push_back({std::move(ad), a.second});
  }
  return set;
}

}  // namespace qwen3
