// Hugging Face PEFT LoRA folders: adapter_config.json (r, lora_alpha, use_rslora,
// target_modules, rank_pattern / alpha_pattern) and adapter_model.safetensors with
// tensors base_model.model.model.layers.N.{self_attn,mlp}.X_proj.lora_{A,B}.weight
// (A: rank x in, B: out x rank, as torch.nn.Linear stores them) in F32, F16 or BF16.
// The scale of each pair is PEFT's: alpha / rank, or alpha / sqrt(rank) with rsLoRA.
// Names and patterns are matched by hand, not with std::regex (whose recursion a long
// tensor name or a pathological pattern could drive into a stack overflow or a hang).
#include <sys/stat.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "kernels/quant.h"
#include "model/lora_adapter.h"
#include "model/safetensors.h"
#include "text/json_limits.h"

namespace qwen3 {

namespace {

using json = nlohmann::ordered_json;

constexpr int kMaxRank = 1 << 16;
constexpr int64_t kMaxDim = 1 << 24;

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

std::string dir_of(const std::string& p) {
  const size_t s = p.find_last_of('/');
  return s == std::string::npos ? "." : p.substr(0, s);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// PEFT's pattern lookup (rank_pattern / alpha_pattern) is re.match(r"(.*\.)?k$", module)
// for the first key k that matches. Keys are module names ("q_proj",
// "model.layers.3.self_attn.q_proj"): matched literally as the whole module or its tail
// after a '.'. A key with other regular-expression syntax is an error.
bool plain_pattern(const std::string& k) {
  if (k.empty() || k.size() > 256) return false;
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return true;
}

const json* pattern_value(const json* patterns, const std::string& module,
                          const std::string& cfg_path) {
  if (!patterns || !patterns->is_object()) return nullptr;
  for (auto it = patterns->begin(); it != patterns->end(); ++it) {
    const std::string& k = it.key();
    if (!plain_pattern(k))
      throw std::runtime_error(cfg_path + ": pattern '" + k.substr(0, 64) +
                               "' is not supported (module names only, e.g. \"q_proj\" or "
                               "\"model.layers.3.self_attn.q_proj\")");
    if (module == k ||
        (module.size() > k.size() && module.compare(module.size() - k.size(), k.size(), k) == 0 &&
         module[module.size() - k.size() - 1] == '.'))
      return &it.value();
  }
  return nullptr;
}

// "base_model.model.model.layers.12.self_attn.q_proj.lora_A.weight" -> layer 12, kQ, A;
// false when the name is not a LoRA pair of a decoder layer's projection.
struct ParsedName {
  int layer = -1;
  LoraTarget target = LoraTarget::kQ;
  bool is_a = true;
  std::string module;  // "model.layers.12.self_attn.q_proj" (PEFT's module key)
};

bool eat(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

bool parse_name(const std::string& name, ParsedName* out) {
  std::string_view s = name;
  eat(s, "base_model.model.");
  const std::string_view module_start = s;
  if (!eat(s, "model.layers.")) return false;
  int layer = 0, digits = 0;
  while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
    if (++digits > 4) return false;  // LoraAdapter takes layers 0..4095
    layer = layer * 10 + (s[0] - '0');
    s.remove_prefix(1);
  }
  if (digits == 0 || !eat(s, ".")) return false;
  if (!eat(s, "self_attn.") && !eat(s, "mlp.")) return false;
  for (int t = 0; t < kNumLoraTargets; ++t) {
    const auto tgt = static_cast<LoraTarget>(t);
    std::string_view rest = s;
    if (!eat(rest, lora_target_peft_name(tgt))) continue;
    const size_t module_len = module_start.size() - rest.size();
    bool is_a;
    if (eat(rest, ".lora_A"))
      is_a = true;
    else if (eat(rest, ".lora_B"))
      is_a = false;
    else
      return false;
    eat(rest, ".default");
    if (rest != ".weight") return false;
    out->layer = layer;
    out->target = tgt;
    out->is_a = is_a;
    out->module = std::string(module_start.substr(0, module_len));
    return true;
  }
  return false;
}

std::string known_targets() {
  std::string s;
  for (int t = 0; t < kNumLoraTargets; ++t)
    s += (t ? ", " : "") + std::string(lora_target_peft_name(static_cast<LoraTarget>(t)));
  return s;
}

std::vector<float> to_f32(const hf::SafetensorsTensor& t, const std::string& file) {
  if (t.type != GgmlType::F32 && t.type != GgmlType::F16 && t.type != GgmlType::BF16)
    throw std::runtime_error(file + ": tensor " + t.name + " is not F32, F16 or BF16");
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  if (!v.empty()) dequantize_row(t.type, t.data, v.data(), t.n_elements());
  return v;
}

// A rank in adapter_config.json: a whole number 1..kMaxRank.
int rank_of(const json& v, const std::string& what) {
  if (!v.is_number()) throw std::runtime_error(what + " must be a number, got " + v.dump());
  const double d = v.get<double>();
  if (d == 0) throw std::runtime_error(what + " = 0 (LoRA rank r = 0)");
  if (!(d >= 1 && d <= kMaxRank) || std::floor(d) != d)
    throw std::runtime_error(what + " must be a whole number 1.." + std::to_string(kMaxRank) +
                             ", got " + v.dump());
  return static_cast<int>(d);
}

double alpha_of(const json& v, const std::string& what) {
  if (!v.is_number()) throw std::runtime_error(what + " must be a number, got " + v.dump());
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > 1e9)
    throw std::runtime_error(what + " is out of range: " + v.dump());
  return d;
}

// What adapter_config.json says (checked).
struct PeftConfig {
  std::string path;  // for errors
  int rank = 0;
  double alpha = 0;
  bool rslora = false;
  json rank_pattern, alpha_pattern;  // null if absent
};

PeftConfig parse_peft_config(const std::string& config_text, const std::string& cfg_path) {
  json cfg;
  try {
    cfg = text::parse_json(config_text);
  } catch (const text::JsonError& e) {
    throw std::runtime_error(cfg_path + ": not valid JSON: " + e.what());
  }
  if (!cfg.is_object()) throw std::runtime_error(cfg_path + ": not a JSON object");
  auto get = [&](const char* key) -> const json* {
    auto it = cfg.find(key);
    return it == cfg.end() || it->is_null() ? nullptr : &*it;
  };
  if (const json* pt = get("peft_type");
      pt && (!pt->is_string() || pt->get<std::string>() != "LORA"))
    throw std::runtime_error(cfg_path + ": peft_type " + pt->dump().substr(0, 64) + " is not LORA");
  if (const json* d = get("use_dora"); d && d->is_boolean() && d->get<bool>())
    throw std::runtime_error(cfg_path + ": DoRA adapters (use_dora) are not supported");
  if (const json* f = get("fan_in_fan_out"); f && f->is_boolean() && f->get<bool>())
    throw std::runtime_error(cfg_path + ": fan_in_fan_out adapters are not supported");
  if (const json* b = get("bias"); b && b->is_string() && b->get<std::string>() != "none")
    throw std::runtime_error(cfg_path + ": LoRA bias '" + b->get<std::string>().substr(0, 64) +
                             "' is not supported (only \"none\")");
  if (const json* m = get("modules_to_save"); m && m->is_array() && !m->empty())
    throw std::runtime_error(cfg_path + ": modules_to_save " + m->dump().substr(0, 128) +
                             " is not supported (LoRA pairs only)");
  const json* r = get("r");
  if (!r) throw std::runtime_error(cfg_path + ": no rank 'r'");
  const int rank = rank_of(*r, cfg_path + ": r");
  const json* alpha_j = get("lora_alpha");
  const double alpha = alpha_j ? alpha_of(*alpha_j, cfg_path + ": lora_alpha") : rank;
  const json* rs = get("use_rslora");
  const bool rslora = rs && rs->is_boolean() && rs->get<bool>();
  if (const json* tm = get("target_modules"); tm && tm->is_array())
    for (const auto& t : *tm) {
      const std::string name = t.is_string() ? t.get<std::string>() : t.dump();
      bool ok = false;
      for (int i = 0; i < kNumLoraTargets; ++i)
        ok = ok || lora_target_peft_name(static_cast<LoraTarget>(i)) == name;
      if (!ok)
        throw std::runtime_error(cfg_path + ": unknown LoRA target module '" + name.substr(0, 64) +
                                 "' (" + known_targets() + ")");
    }
  PeftConfig out;
  out.path = cfg_path;
  out.rank = rank;
  out.alpha = alpha;
  out.rslora = rslora;
  if (const json* p = get("rank_pattern")) out.rank_pattern = *p;
  if (const json* p = get("alpha_pattern")) out.alpha_pattern = *p;
  return out;
}

// The adapter of a checked config and the safetensors' tensors. dir: the adapter's name
// (its folder); st_path names the tensors' file in errors.
std::shared_ptr<LoraAdapter> build_peft(const PeftConfig& cfg,
                                        const std::vector<hf::SafetensorsTensor>& tensors,
                                        const std::string& dir, const std::string& st_path) {
  const std::string& cfg_path = cfg.path;
  struct Half {
    const hf::SafetensorsTensor* a = nullptr;
    const hf::SafetensorsTensor* b = nullptr;
    ParsedName name;
  };
  std::map<std::pair<int, int>, Half> pairs;
  for (const auto& t : tensors) {
    ParsedName pn;
    if (!parse_name(t.name, &pn)) {
      const std::string shown = t.name.substr(0, 128);
      if (t.name.find("lora_magnitude_vector") != std::string::npos)
        throw std::runtime_error(st_path + ": DoRA tensor " + shown + " is not supported");
      throw std::runtime_error(st_path + ": unknown LoRA target tensor '" + shown +
                               "' (LoRA pairs of " + known_targets() + " only)");
    }
    Half& h = pairs[{pn.layer, static_cast<int>(pn.target)}];
    const hf::SafetensorsTensor*& slot = pn.is_a ? h.a : h.b;
    if (slot)
      throw std::runtime_error(st_path + ": " + pn.module + ": lora_" + (pn.is_a ? "A" : "B") +
                               " given twice (" + slot->name + ", " + t.name.substr(0, 128) + ")");
    slot = &t;
    h.name = pn;
  }
  auto adapter = std::make_shared<LoraAdapter>(dir, "peft");
  for (const auto& kv : pairs) {
    const Half& h = kv.second;
    const std::string what = st_path + ": " + h.name.module;
    if (!h.a || !h.b) throw std::runtime_error(what + ": lora_A or lora_B is missing");
    if (h.a->shape.size() != 2 || h.b->shape.size() != 2)
      throw std::runtime_error(what + ": lora_A and lora_B must be 2-D");
    for (const auto* t : {h.a, h.b})
      for (int64_t d : t->shape)
        if (d > kMaxDim)
          throw std::runtime_error(what + ": dimension " + std::to_string(d) + " of " + t->name +
                                   " is too large");
    LoraMatrices m;
    m.rank = static_cast<int>(h.a->shape[0]);
    m.in = static_cast<int>(h.a->shape[1]);
    m.out = static_cast<int>(h.b->shape[0]);
    if (m.rank == 0 || h.b->shape[1] == 0) throw std::runtime_error(what + ": LoRA rank 0");
    if (h.b->shape[1] != m.rank)
      throw std::runtime_error(what + ": lora_A has rank " + std::to_string(m.rank) +
                               " but lora_B " + std::to_string(h.b->shape[1]));
    int r_cfg = cfg.rank;
    if (const json* p = pattern_value(&cfg.rank_pattern, h.name.module, cfg_path))
      r_cfg = rank_of(*p, cfg_path + ": rank_pattern of " + h.name.module);
    if (r_cfg != m.rank)
      throw std::runtime_error(what + ": tensors of rank " + std::to_string(m.rank) +
                               " but adapter_config.json says r = " + std::to_string(r_cfg));
    double a = cfg.alpha;
    if (const json* p = pattern_value(&cfg.alpha_pattern, h.name.module, cfg_path))
      a = alpha_of(*p, cfg_path + ": alpha_pattern of " + h.name.module);
    m.scale = static_cast<float>(cfg.rslora ? a / std::sqrt(static_cast<double>(m.rank))
                                            : a / static_cast<double>(m.rank));
    m.a = to_f32(*h.a, st_path);
    m.b = to_f32(*h.b, st_path);
    adapter->add(kv.first.first, static_cast<LoraTarget>(kv.first.second), std::move(m));
  }
  if (adapter->n_matrices() == 0) throw std::runtime_error(st_path + ": no LoRA tensors");
  return adapter;
}

}  // namespace

std::shared_ptr<LoraAdapter> parse_peft_adapter(const std::string& config_json,
                                                const uint8_t* safetensors, size_t size,
                                                const std::string& name) {
  const std::string st_path = name + "/adapter_model.safetensors";
  const PeftConfig cfg = parse_peft_config(config_json, name + "/adapter_config.json");
  const hf::SafetensorsHeader h = hf::parse_safetensors(safetensors, size, st_path);
  return build_peft(cfg, h.tensors, name, st_path);
}

std::shared_ptr<LoraAdapter> load_peft_adapter(const std::string& path) {
  const std::string dir = is_dir(path) ? path : dir_of(path);
  const std::string cfg_path = dir + "/adapter_config.json";
  if (!exists(cfg_path))
    throw std::runtime_error(dir + ": no adapter_config.json (not a PEFT LoRA folder)");
  const PeftConfig cfg = parse_peft_config(read_text(cfg_path), cfg_path);
  std::string st_path = dir + "/adapter_model.safetensors";
  if (!is_dir(path) && path.size() > 12 && path.rfind(".safetensors") == path.size() - 12)
    st_path = path;
  if (!exists(st_path)) {
    if (exists(dir + "/adapter_model.bin"))
      throw std::runtime_error(dir +
                               ": adapter_model.bin (PyTorch pickle) is not supported; "
                               "save the adapter with safe_serialization=True");
    throw std::runtime_error(dir + ": no adapter_model.safetensors");
  }
  const hf::SafetensorsFile file = hf::SafetensorsFile::open(st_path);
  return build_peft(cfg, file.tensors(), dir, st_path);
}

}  // namespace qwen3
