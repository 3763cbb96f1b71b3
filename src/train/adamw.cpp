// AdamW: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, w -= lr (wd w + m^/(sqrt(v^)+eps)).
#include "train/adamw.h"

#include <cmath>
#include <stdexcept>

namespace qwen3::train {
namespace {

void update(std::vector<float>& w, const std::vector<float>& g, std::vector<float>& m,
            std::vector<float>& v, const AdamWOptions& o, float clip, double bc1, double bc2) {
  const float lr = o.lr, decay = 1.0f - o.lr * o.weight_decay;
  for (size_t i = 0; i < w.size(); ++i) {
    const float gi = g[i] * clip;
    m[i] = o.beta1 * m[i] + (1.0f - o.beta1) * gi;
    v[i] = o.beta2 * v[i] + (1.0f - o.beta2) * gi * gi;
    const double mh = m[i] / bc1, vh = v[i] / bc2;
    w[i] = static_cast<float>(w[i] * decay - lr * mh / (std::sqrt(vh) + o.eps));
  }
}

}  // namespace

double adamw_step(LoraParams& p, const AdamWOptions& o, int64_t t) {
  if (t < 1) throw std::invalid_argument("AdamW step must be >= 1");
  const double norm = p.grad_norm();
  float clip = 1.0f;
  if (o.max_grad_norm > 0 && norm > o.max_grad_norm)
    clip = static_cast<float>(o.max_grad_norm / (norm + 1e-6));
  const double bc1 = 1.0 - std::pow(static_cast<double>(o.beta1), static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(static_cast<double>(o.beta2), static_cast<double>(t));
  for (auto& q : p.params()) {
    update(q.m.a, q.ga, q.ma, q.va, o, clip, bc1, bc2);
    update(q.m.b, q.gb, q.mb, q.vb, o, clip, bc1, bc2);
  }
  return norm;
}

}  // namespace qwen3::train
