// LoraParams: initialisation as PEFT, conversion from and to LoraAdapter.
#include "train/lora_params.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace qwen3::train {

void LoraParams::index(int n_layers) {
  slots_.assign(static_cast<size_t>(n_layers), {});
  for (auto& s : slots_) s.fill(-1);
  for (size_t i = 0; i < params_.size(); ++i) {
    LoraParam& p = params_[i];
    slots_[static_cast<size_t>(p.layer)][static_cast<size_t>(p.target)] = static_cast<int>(i);
    const size_t na = p.m.a.size(), nb = p.m.b.size();
    p.ga.assign(na, 0.0f);
    p.gb.assign(nb, 0.0f);
    p.ma.assign(na, 0.0f);
    p.va.assign(na, 0.0f);
    p.mb.assign(nb, 0.0f);
    p.vb.assign(nb, 0.0f);
  }
}

LoraParams LoraParams::init(const Qwen3Config& c, int rank, float alpha,
                            const std::vector<LoraTarget>& targets, uint64_t seed) {
  if (rank <= 0) throw std::invalid_argument("LoRA rank must be > 0");
  if (targets.empty()) throw std::invalid_argument("no LoRA targets");
  // As LoraAdapter::check_base: inference applies no adapter to the experts.
  if (c.is_moe())
    for (LoraTarget t : targets)
      if (t >= LoraTarget::kGate)
        throw std::invalid_argument(
            "finetune: " + std::string(lora_target_peft_name(t)) +
            ": LoRA on the experts of a mixture-of-experts model is not supported (attention "
            "projections only: --targets q,k,v,o or a part of them)");
  LoraParams P;
  std::mt19937_64 rng(seed);
  for (int l = 0; l < c.n_layers; ++l)
    for (LoraTarget t : targets) {
      LoraParam p;
      p.layer = l;
      p.target = t;
      p.m.rank = rank;
      p.m.in = lora_target_in(c, t);
      p.m.out = lora_target_out(c, t);
      p.m.scale = alpha / static_cast<float>(rank);
      const float bound = 1.0f / std::sqrt(static_cast<float>(p.m.in));
      std::uniform_real_distribution<float> u(-bound, bound);
      p.m.a.resize(static_cast<size_t>(rank) * p.m.in);
      for (float& v : p.m.a) v = u(rng);
      p.m.b.assign(static_cast<size_t>(p.m.out) * rank, 0.0f);
      P.params_.push_back(std::move(p));
    }
  P.index(c.n_layers);
  return P;
}

LoraParams LoraParams::from_adapter(const Qwen3Config& c, const LoraAdapter& a) {
  a.check_base(c);
  LoraParams P;
  for (int l = 0; l < a.n_layers(); ++l)
    for (int t = 0; t < kNumLoraTargets; ++t)
      if (const LoraMatrices* m = a.find(l, static_cast<LoraTarget>(t))) {
        LoraParam p;
        p.layer = l;
        p.target = static_cast<LoraTarget>(t);
        p.m = *m;
        P.params_.push_back(std::move(p));
      }
  if (P.params_.empty()) throw std::runtime_error(a.path() + ": adapter has no matrices");
  P.index(c.n_layers);
  return P;
}

const LoraParam* LoraParams::find(int layer, LoraTarget t) const {
  if (layer < 0 || layer >= static_cast<int>(slots_.size())) return nullptr;
  const int i = slots_[static_cast<size_t>(layer)][static_cast<size_t>(t)];
  return i < 0 ? nullptr : &params_[static_cast<size_t>(i)];
}

LoraParam* LoraParams::find(int layer, LoraTarget t) {
  return const_cast<LoraParam*>(static_cast<const LoraParams*>(this)->find(layer, t));
}

int64_t LoraParams::n_parameters() const {
  int64_t n = 0;
  for (const auto& p : params_) n += static_cast<int64_t>(p.m.a.size() + p.m.b.size());
  return n;
}

void LoraParams::zero_grad() {
  for (auto& p : params_) {
    std::fill(p.ga.begin(), p.ga.end(), 0.0f);
    std::fill(p.gb.begin(), p.gb.end(), 0.0f);
  }
}

double LoraParams::grad_norm() const {
  double s = 0;
  for (const auto& p : params_) {
    for (float g : p.ga) s += static_cast<double>(g) * g;
    for (float g : p.gb) s += static_cast<double>(g) * g;
  }
  return std::sqrt(s);
}

std::shared_ptr<LoraAdapter> LoraParams::to_adapter(const std::string& name) const {
  auto a = std::make_shared<LoraAdapter>(name, "peft");
  for (const auto& p : params_) a->add(p.layer, p.target, p.m);
  return a;
}

}  // namespace qwen3::train
