// The constants of the vector exp (Cephes-style range reduction and a degree-5
// polynomial): one set for every width (simd_avx2.h exp_ps, simd_avx512.h exp16), so the
// 16-lane ops and softmax give the 8-lane ones' bits lane for lane.
#pragma once

namespace qwen3::exp_poly {

constexpr float kClamp = 88.3762626647949f;     // |x| clamped to this: never inf/NaN
constexpr float kLog2e = 1.44269504088896341f;  // fx = floor(x log2(e) + 0.5)
constexpr float kLn2Hi = 0.693359375f;          // x -= fx ln2, in two parts
constexpr float kLn2Lo = -2.12194440e-4f;
// y = ((((p0 x + p1) x + p2) x + p3) x + p4) x + p5, then y x^2 + x + 1.
constexpr float kP0 = 1.9875691500E-4f, kP1 = 1.3981999507E-3f, kP2 = 8.3334519073E-3f,
                kP3 = 4.1665795894E-2f, kP4 = 1.6666665459E-1f, kP5 = 5.0000001201E-1f;

}  // namespace qwen3::exp_poly
