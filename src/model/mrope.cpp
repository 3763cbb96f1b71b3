// Interleaved M-RoPE tables of Qwen3-VL (see mrope.h).
#include "model/mrope.h"

#include <cmath>

namespace qwen3 {

void mrope_at(const Rope& rope, const std::vector<int>& sections, const VlInput& p, float* cos_out,
              float* sin_out) {
  if (p.t == p.y && p.t == p.x) {  // text: NEOX RoPE, exactly Rope::at
    rope.at(p.t, cos_out, sin_out);
    return;
  }
  const int half = rope.head_dim() / 2;
  const int sec_y = sections.size() > 1 ? sections[1] : 0;
  const int sec_x = sections.size() > 2 ? sections[2] : 0;
  for (int s = 0; s < half; ++s) {
    int pos = p.t;
    if (s % 3 == 1 && s < 3 * sec_y)
      pos = p.y;
    else if (s % 3 == 2 && s < 3 * sec_x)
      pos = p.x;
    // The same arithmetic as Rope::at (double angle, magnitude factor).
    const double a = static_cast<double>(pos) * rope.inv_freq(s);
    cos_out[s] = static_cast<float>(std::cos(a) * rope.mscale());
    sin_out[s] = static_cast<float>(std::sin(a) * rope.mscale());
  }
}

}  // namespace qwen3
