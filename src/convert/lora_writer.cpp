// LoRA adapter writers (PEFT folder, llama.cpp GGUF) and the random-adapter generator
// (see lora_writer.h).
#include "convert/lora_writer.h"

#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/split.h"
#include "convert/hf_checkpoint_writer.h"
#include "convert/random_model.h"
#include "gguf/gguf_writer.h"
#include "kernels/fp16.h"

namespace qwen3 {

namespace {

float round_through(GgmlType t, float v) {
  if (t == GgmlType::F16) return fp16_to_fp32(fp32_to_fp16(v));
  if (t == GgmlType::BF16) return bf16_to_fp32(fp32_to_bf16(v));
  return v;
}

void check_dtype(GgmlType t) {
  if (t != GgmlType::F32 && t != GgmlType::F16 && t != GgmlType::BF16)
    throw std::invalid_argument("LoRA tensors are written as F32, F16 or BF16");
}

// Writes n floats of src (times factor) as dtype into dst.
void encode(GgmlType t, const float* src, size_t n, float factor, void* dst) {
  for (size_t i = 0; i < n; ++i) {
    const float v = src[i] * factor;
    if (t == GgmlType::F32) {
      std::memcpy(static_cast<uint8_t*>(dst) + 4 * i, &v, 4);
    } else {
      const uint16_t h = t == GgmlType::F16 ? fp32_to_fp16(v) : fp32_to_bf16(v);
      std::memcpy(static_cast<uint8_t*>(dst) + 2 * i, &h, 2);
    }
  }
}

struct Pair {
  int layer;
  LoraTarget t;
  const LoraMatrices* m;
};

std::vector<Pair> pairs_of(const LoraAdapter& a) {
  std::vector<Pair> out;
  for (int l = 0; l < a.n_layers(); ++l)
    for (int t = 0; t < kNumLoraTargets; ++t)
      if (const LoraMatrices* m = a.find(l, static_cast<LoraTarget>(t)))
        out.push_back({l, static_cast<LoraTarget>(t), m});
  if (out.empty()) throw std::invalid_argument("the LoRA adapter has no matrices");
  return out;
}

}  // namespace

std::vector<LoraTarget> parse_lora_targets(const std::string& list) {
  std::vector<LoraTarget> out;
  for (const std::string& item : split_on(list, ',')) {
    if (item.empty()) continue;
    if (item == "all") {
      for (int t = 0; t < kNumLoraTargets; ++t) out.push_back(static_cast<LoraTarget>(t));
      continue;
    }
    int found = -1;
    for (int t = 0; t < kNumLoraTargets; ++t) {
      const std::string peft(lora_target_peft_name(static_cast<LoraTarget>(t)));
      if (item == peft || item + "_proj" == peft) found = t;
    }
    if (found < 0)
      throw std::invalid_argument("unknown LoRA target '" + item +
                                  "' (q, k, v, o, gate, up, down or all)");
    out.push_back(static_cast<LoraTarget>(found));
  }
  if (out.empty()) throw std::invalid_argument("no LoRA targets given");
  return out;
}

std::shared_ptr<LoraAdapter> random_lora_adapter(const Qwen3Config& c, const RandomLoraOptions& o,
                                                 const std::string& name) {
  check_dtype(o.dtype);
  if (o.rank <= 0) throw std::invalid_argument("LoRA rank must be positive");
  std::vector<LoraTarget> targets = o.targets;
  if (targets.empty())
    for (int t = 0; t < kNumLoraTargets; ++t) targets.push_back(static_cast<LoraTarget>(t));
  std::vector<int> layers = o.layers;
  if (layers.empty())
    for (int l = 0; l < c.n_layers; ++l) layers.push_back(l);
  const float scale = o.rslora ? o.alpha / std::sqrt(static_cast<float>(o.rank))
                               : o.alpha / static_cast<float>(o.rank);
  auto adapter = std::make_shared<LoraAdapter>(name, "random");
  const float sqrt3 = std::sqrt(3.0f);
  for (int l : layers)
    for (LoraTarget t : targets) {
      LoraMatrices m;
      m.rank = o.rank;
      m.in = lora_target_in(c, t);
      m.out = lora_target_out(c, t);
      m.scale = scale;
      const std::string base =
          "blk." + std::to_string(l) + "." + std::string(lora_target_gguf_name(t)) + ".weight";
      const float ha = sqrt3 / std::sqrt(static_cast<float>(m.in));
      const float hb = sqrt3 * o.strength / (scale * std::sqrt(static_cast<float>(o.rank)));
      m.a.resize(static_cast<size_t>(m.rank) * m.in);
      m.b.resize(static_cast<size_t>(m.out) * m.rank);
      for (size_t i = 0; i < m.a.size(); ++i)
        m.a[i] = round_through(o.dtype, random_weight(o.seed, base + ".lora_a", i, ha));
      for (size_t i = 0; i < m.b.size(); ++i)
        m.b[i] = round_through(o.dtype, random_weight(o.seed, base + ".lora_b", i, hb));
      adapter->add(l, t, std::move(m));
    }
  return adapter;
}

void write_peft_adapter(const LoraAdapter& a, const std::string& folder,
                        const LoraWriteOptions& o) {
  check_dtype(o.dtype);
  const std::vector<Pair> pairs = pairs_of(a);
  ::mkdir(folder.c_str(), 0755);
  int r = 0;
  for (const Pair& p : pairs) r = std::max(r, p.m->rank);
  const Pair& first = pairs.front();
  // PEFT scaling = alpha / r (rsLoRA: alpha / sqrt(r)); choose alpha for the first pair.
  const double root =
      o.rslora ? std::sqrt(static_cast<double>(first.m->rank)) : static_cast<double>(first.m->rank);
  const double alpha = static_cast<double>(first.m->scale) * root;
  nlohmann::ordered_json cfg;
  cfg["alpha_pattern"] = nlohmann::json::object();
  cfg["base_model_name_or_path"] = o.base_model;
  cfg["bias"] = "none";
  cfg["fan_in_fan_out"] = false;
  cfg["inference_mode"] = true;
  cfg["lora_alpha"] = alpha;
  cfg["lora_dropout"] = 0.0;
  cfg["modules_to_save"] = nullptr;
  cfg["peft_type"] = "LORA";
  cfg["r"] = r;
  nlohmann::json rank_pattern = nlohmann::json::object();
  std::vector<std::string> targets;
  for (LoraTarget t : a.targets()) targets.emplace_back(lora_target_peft_name(t));
  std::vector<hf::SafetensorsSpec> specs;
  for (const Pair& p : pairs) {
    const std::string module = "model.layers." + std::to_string(p.layer) +
                               (p.t <= LoraTarget::kO ? ".self_attn." : ".mlp.") +
                               std::string(lora_target_peft_name(p.t));
    if (p.m->rank != r) rank_pattern[module] = p.m->rank;
    const double peft_scale =
        alpha / (o.rslora ? std::sqrt(static_cast<double>(p.m->rank)) : p.m->rank);
    const float fold = static_cast<float>(p.m->scale / peft_scale);
    const float fold_b = std::fabs(fold - 1.0f) < 1e-6f ? 1.0f : fold;
    const LoraMatrices* m = p.m;
    const GgmlType dt = o.dtype;
    specs.push_back(
        {"base_model.model." + module + ".lora_A.weight",
         dt,
         {m->rank, m->in},
         [m, dt](void* dst, size_t) { encode(dt, m->a.data(), m->a.size(), 1.0f, dst); }});
    specs.push_back({"base_model.model." + module + ".lora_B.weight",
                     dt,
                     {m->out, m->rank},
                     [m, dt, fold_b](void* dst, size_t) {
                       encode(dt, m->b.data(), m->b.size(), fold_b, dst);
                     }});
  }
  cfg["rank_pattern"] = rank_pattern;
  cfg["target_modules"] = targets;
  cfg["task_type"] = "CAUSAL_LM";
  cfg["use_dora"] = false;
  cfg["use_rslora"] = o.rslora;
  std::ofstream(folder + "/adapter_config.json") << cfg.dump(2) << "\n";
  hf::write_safetensors(folder + "/adapter_model.safetensors", specs, {{"format", "pt"}});
}

void write_gguf_adapter(const LoraAdapter& a, const std::string& path, const LoraWriteOptions& o) {
  check_dtype(o.dtype);
  const std::vector<Pair> pairs = pairs_of(a);
  const float alpha = pairs.front().m->scale * static_cast<float>(pairs.front().m->rank);
  gguf::GgufWriter w;
  w.set_string("general.architecture", o.arch);
  w.set_string("general.type", "adapter");
  w.set_string("adapter.type", "lora");
  w.set_f32("adapter.lora.alpha", alpha);
  for (const Pair& p : pairs) {
    const LoraMatrices* m = p.m;
    const float gguf_scale = alpha / static_cast<float>(m->rank);
    const float fold = m->scale / gguf_scale;
    const float fold_b = std::fabs(fold - 1.0f) < 1e-6f ? 1.0f : fold;
    const std::string base = "blk." + std::to_string(p.layer) + "." +
                             std::string(lora_target_gguf_name(p.t)) + ".weight";
    const GgmlType dt = o.dtype;
    w.add_tensor_lazy(base + ".lora_a", dt, {m->in, m->rank}, [m, dt](void* dst, size_t) {
      encode(dt, m->a.data(), m->a.size(), 1.0f, dst);
    });
    w.add_tensor_lazy(base + ".lora_b", dt, {m->rank, m->out}, [m, dt, fold_b](void* dst, size_t) {
      encode(dt, m->b.data(), m->b.size(), fold_b, dst);
    });
  }
  w.write(path);
}

}  // namespace qwen3
