// llama.cpp LoRA adapter GGUFs (convert_lora_to_gguf.py, llama-adapter.cpp):
// general.type = "adapter", adapter.type = "lora", adapter.lora.alpha (absent or 0: the
// scale is the user's alone), general.architecture of the base, and tensor pairs
// blk.N.<tensor>.weight.lora_a (ggml dims [in, rank], i.e. rank x in row-major) and
// .lora_b ([rank, out]: out x rank). Scale of a pair = alpha / rank, as llama.cpp's
// llama_adapter_lora_weight::get_scale. Norm vectors (*_norm.weight, which llama.cpp
// ignores too) are skipped; any other tensor is an error. Names are parsed by hand.
#include <cmath>
#include <map>
#include <stdexcept>
#include <string_view>

#include "gguf/gguf_reader.h"
#include "kernels/quant.h"
#include "model/lora_adapter.h"

namespace qwen3 {

namespace {

constexpr int64_t kMaxDim = 1 << 24;

std::vector<float> to_f32(const gguf::TensorInfo& t, const std::string& file) {
  if (!kernels_support(t.type))
    throw std::runtime_error(file + ": LoRA tensor " + t.name + " has an unsupported type");
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  const int64_t row = t.dims.empty() ? 0 : t.dims[0];
  if (row <= 0) return v;
  const size_t row_bytes = ggml_row_size(t.type, row);
  for (int64_t r = 0; r < t.n_elements() / row; ++r)
    dequantize_row(t.type, static_cast<const uint8_t*>(t.data) + static_cast<size_t>(r) * row_bytes,
                   v.data() + r * row, row);
  return v;
}

// "blk.12.attn_q.weight.lora_a" -> layer 12, target, is_a; false for any other name.
bool parse_name(std::string_view s, int* layer, int* target, bool* is_a) {
  auto eat = [&](std::string_view p) {
    if (s.substr(0, p.size()) != p) return false;
    s.remove_prefix(p.size());
    return true;
  };
  if (!eat("blk.")) return false;
  int n = 0, digits = 0;
  while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
    if (++digits > 4) return false;  // LoraAdapter takes layers 0..4095
    n = n * 10 + (s[0] - '0');
    s.remove_prefix(1);
  }
  if (digits == 0 || !eat(".")) return false;
  for (int i = 0; i < kNumLoraTargets; ++i) {
    const std::string_view saved = s;
    if (eat(lora_target_gguf_name(static_cast<LoraTarget>(i))) && eat(".weight.lora_")) {
      if (s == "a" || s == "b") {
        *layer = n;
        *target = i;
        *is_a = s == "a";
        return true;
      }
      return false;
    }
    s = saved;
  }
  return false;
}

}  // namespace

std::shared_ptr<LoraAdapter> parse_gguf_adapter(const gguf::GgufFile& f, const std::string& path) {
  const std::string type = f.get_string("general.type").value_or("");
  if (type != "adapter")
    throw std::runtime_error(path + ": not a LoRA adapter GGUF (general.type is '" +
                             type.substr(0, 64) +
                             "', expected 'adapter'; a model GGUF goes to -m)");
  const std::string atype = f.get_string("adapter.type").value_or("");
  if (atype != "lora")
    throw std::runtime_error(path + ": adapter.type is '" + atype.substr(0, 64) +
                             "', expected 'lora'");
  const double alpha = f.get_float("adapter.lora.alpha").value_or(0.0);
  if (!std::isfinite(alpha) || std::fabs(alpha) > 1e9)
    throw std::runtime_error(path + ": adapter.lora.alpha is out of range");
  const std::string arch = f.get_string("general.architecture").value_or("");
  if (arch.empty()) throw std::runtime_error(path + ": no general.architecture");

  std::map<std::pair<int, int>, std::pair<const gguf::TensorInfo*, const gguf::TensorInfo*>> pairs;
  for (const auto& t : f.tensors()) {
    if (t.name.size() > 12 && t.name.compare(t.name.size() - 12, 12, "_norm.weight") == 0) continue;
    int layer = -1, target = -1;
    bool is_a = true;
    if (!parse_name(t.name, &layer, &target, &is_a))
      throw std::runtime_error(path + ": unknown LoRA target tensor '" + t.name.substr(0, 128) +
                               "' (blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,"
                               "ffn_down}.weight.lora_a/.lora_b only)");
    auto& p = pairs[{layer, target}];
    const gguf::TensorInfo*& slot = is_a ? p.first : p.second;
    if (slot)
      throw std::runtime_error(path + ": " + t.name.substr(0, 128) + " given twice (also as " +
                               slot->name + ")");
    slot = &t;
  }
  auto adapter = std::make_shared<LoraAdapter>(path, "gguf", arch);
  for (const auto& kv : pairs) {
    const auto tgt = static_cast<LoraTarget>(kv.first.second);
    const std::string what = path + ": blk." + std::to_string(kv.first.first) + "." +
                             std::string(lora_target_gguf_name(tgt)) + ".weight";
    const gguf::TensorInfo* a = kv.second.first;
    const gguf::TensorInfo* b = kv.second.second;
    if (!a || !b) throw std::runtime_error(what + ": lora_a or lora_b is missing");
    if (a->dims.size() != 2 || b->dims.size() != 2)
      throw std::runtime_error(what + ": lora_a and lora_b must be 2-D");
    for (const auto* t : {a, b})
      for (int64_t d : t->dims)
        if (d < 0 || d > kMaxDim)
          throw std::runtime_error(what + ": dimension " + std::to_string(d) + " of " + t->name +
                                   " is out of range");
    LoraMatrices m;
    m.in = static_cast<int>(a->dims[0]);
    m.rank = static_cast<int>(a->dims[1]);
    m.out = static_cast<int>(b->dims[1]);
    if (m.rank == 0 || b->dims[0] == 0) throw std::runtime_error(what + ": LoRA rank 0");
    if (b->dims[0] != m.rank)
      throw std::runtime_error(what + ": lora_a has rank " + std::to_string(m.rank) +
                               " but lora_b " + std::to_string(b->dims[0]) +
                               " (lora_a not transposed?)");
    m.scale = alpha != 0 ? static_cast<float>(alpha / m.rank) : 1.0f;
    m.a = to_f32(*a, path);
    m.b = to_f32(*b, path);
    adapter->add(kv.first.first, tgt, std::move(m));
  }
  if (adapter->n_matrices() == 0) throw std::runtime_error(path + ": no LoRA tensors");
  return adapter;
}

std::shared_ptr<LoraAdapter> load_gguf_adapter(const std::string& path) {
  return parse_gguf_adapter(gguf::GgufFile::open(path), path);
}

}  // namespace qwen3
