// Hugging Face PEFT LoRA folders: adapter_config.json (r, lora_alpha, use_rslora,
// target_modules, rank_pattern / alpha_pattern) and adapter_model.safetensors with
// tensors base_model.model.model.layers.N.{self_attn,mlp}.X_proj.lora_{A,B}.weight
// (A: rank x in, B: out x rank, as torch.nn.Linear stores them) in F32, F16 or BF16.
// The scale of each pair is PEFT's: alpha / rank, or alpha / sqrt(rank) with rsLoRA.
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "kernels/quant.h"
#include "model/lora_adapter.h"
#include "model/safetensors.h"

namespace qwen3 {

namespace {

using nlohmann::json;

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

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON: " + e.what());
  }
}

// PEFT's pattern lookup (rank_pattern / alpha_pattern): the first key k with
// re.match(r"(.*\.)?k$", module).
const json* pattern_value(const json& patterns, const std::string& module) {
  if (!patterns.is_object()) return nullptr;
  for (auto it = patterns.begin(); it != patterns.end(); ++it) {
    try {
      if (std::regex_match(module, std::regex("(.*\\.)?" + it.key()))) return &it.value();
    } catch (const std::regex_error&) {
      throw std::runtime_error("bad pattern '" + it.key() + "' in adapter_config.json");
    }
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

bool parse_name(const std::string& name, ParsedName* out, std::string* target_name) {
  static const std::regex re(
      R"(^(?:base_model\.model\.)?(model\.layers\.(\d+)\.(?:self_attn|mlp)\.([a-z_]+))\.lora_([AB])(?:\.default)?\.weight$)");
  std::smatch m;
  if (!std::regex_match(name, m, re)) return false;
  *target_name = m[3];
  out->module = m[1];
  out->layer = std::stoi(m[2]);
  out->is_a = m[4] == "A";
  for (int t = 0; t < kNumLoraTargets; ++t)
    if (lora_target_peft_name(static_cast<LoraTarget>(t)) == *target_name) {
      out->target = static_cast<LoraTarget>(t);
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

}  // namespace

std::shared_ptr<LoraAdapter> load_peft_adapter(const std::string& path) {
  const std::string dir = is_dir(path) ? path : dir_of(path);
  const std::string cfg_path = dir + "/adapter_config.json";
  if (!exists(cfg_path))
    throw std::runtime_error(dir + ": no adapter_config.json (not a PEFT LoRA folder)");
  const json cfg = read_json(cfg_path);
  if (!cfg.is_object()) throw std::runtime_error(cfg_path + ": not a JSON object");
  auto get = [&](const char* key) -> const json* {
    auto it = cfg.find(key);
    return it == cfg.end() || it->is_null() ? nullptr : &*it;
  };
  if (const json* pt = get("peft_type");
      pt && (!pt->is_string() || pt->get<std::string>() != "LORA"))
    throw std::runtime_error(cfg_path + ": peft_type " + pt->dump() + " is not LORA");
  if (const json* d = get("use_dora"); d && d->is_boolean() && d->get<bool>())
    throw std::runtime_error(cfg_path + ": DoRA adapters (use_dora) are not supported");
  if (const json* f = get("fan_in_fan_out"); f && f->is_boolean() && f->get<bool>())
    throw std::runtime_error(cfg_path + ": fan_in_fan_out adapters are not supported");
  if (const json* b = get("bias"); b && b->is_string() && b->get<std::string>() != "none")
    throw std::runtime_error(cfg_path + ": LoRA bias '" + b->get<std::string>() +
                             "' is not supported (only \"none\")");
  if (const json* m = get("modules_to_save"); m && m->is_array() && !m->empty())
    throw std::runtime_error(cfg_path + ": modules_to_save " + m->dump() +
                             " is not supported (LoRA pairs only)");
  const json* r = get("r");
  if (!r || !r->is_number()) throw std::runtime_error(cfg_path + ": no rank 'r'");
  if (r->get<double>() <= 0) throw std::runtime_error(cfg_path + ": LoRA rank r = 0");
  const json* alpha_j = get("lora_alpha");
  const double alpha = alpha_j && alpha_j->is_number() ? alpha_j->get<double>() : r->get<double>();
  const json* rs = get("use_rslora");
  const bool rslora = rs && rs->is_boolean() && rs->get<bool>();
  if (const json* tm = get("target_modules"); tm && tm->is_array())
    for (const auto& t : *tm) {
      const std::string name = t.is_string() ? t.get<std::string>() : t.dump();
      bool ok = false;
      for (int i = 0; i < kNumLoraTargets; ++i)
        ok = ok || lora_target_peft_name(static_cast<LoraTarget>(i)) == name;
      if (!ok)
        throw std::runtime_error(cfg_path + ": unknown LoRA target module '" + name + "' (" +
                                 known_targets() + ")");
    }
  const json empty = json::object();
  const json* rank_pattern = get("rank_pattern");
  const json* alpha_pattern = get("alpha_pattern");

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

  struct Half {
    const hf::SafetensorsTensor* a = nullptr;
    const hf::SafetensorsTensor* b = nullptr;
    ParsedName name;
  };
  std::map<std::pair<int, int>, Half> pairs;
  for (const auto& t : file.tensors()) {
    ParsedName pn;
    std::string target;
    if (!parse_name(t.name, &pn, &target)) {
      if (t.name.find("lora_magnitude_vector") != std::string::npos)
        throw std::runtime_error(st_path + ": DoRA tensor " + t.name + " is not supported");
      throw std::runtime_error(st_path + ": unknown LoRA target tensor '" + t.name +
                               "' (LoRA pairs of " + known_targets() + " only)");
    }
    Half& h = pairs[{pn.layer, static_cast<int>(pn.target)}];
    h.name = pn;
    (pn.is_a ? h.a : h.b) = &t;
  }
  auto adapter = std::make_shared<LoraAdapter>(dir, "peft");
  for (const auto& kv : pairs) {
    const Half& h = kv.second;
    const std::string what = st_path + ": " + h.name.module;
    if (!h.a || !h.b) throw std::runtime_error(what + ": lora_A or lora_B is missing");
    if (h.a->shape.size() != 2 || h.b->shape.size() != 2)
      throw std::runtime_error(what + ": lora_A and lora_B must be 2-D");
    LoraMatrices m;
    m.rank = static_cast<int>(h.a->shape[0]);
    m.in = static_cast<int>(h.a->shape[1]);
    m.out = static_cast<int>(h.b->shape[0]);
    if (m.rank == 0 || h.b->shape[1] == 0) throw std::runtime_error(what + ": LoRA rank 0");
    if (h.b->shape[1] != m.rank)
      throw std::runtime_error(what + ": lora_A has rank " + std::to_string(m.rank) +
                               " but lora_B " + std::to_string(h.b->shape[1]));
    double r_cfg = r->get<double>();
    if (const json* p = pattern_value(rank_pattern ? *rank_pattern : empty, h.name.module))
      if (p->is_number()) r_cfg = p->get<double>();
    if (static_cast<int>(r_cfg) != m.rank)
      throw std::runtime_error(
          what + ": tensors of rank " + std::to_string(m.rank) +
          " but adapter_config.json says r = " + std::to_string(static_cast<int>(r_cfg)));
    double a = alpha;
    if (const json* p = pattern_value(alpha_pattern ? *alpha_pattern : empty, h.name.module))
      if (p->is_number()) a = p->get<double>();
    m.scale = static_cast<float>(rslora ? a / std::sqrt(static_cast<double>(m.rank))
                                        : a / static_cast<double>(m.rank));
    m.a = to_f32(*h.a, st_path);
    m.b = to_f32(*h.b, st_path);
    adapter->add(kv.first.first, static_cast<LoraTarget>(kv.first.second), std::move(m));
  }
  if (adapter->n_matrices() == 0) throw std::runtime_error(st_path + ": no LoRA tensors");
  return adapter;
}

}  // namespace qwen3
