// train_attention.h: the portable build of the loops and the run-time choice of the
// AVX2 build (x86 CPUs with AVX2, as the kernels choose).
#include "kernels/cpu_features.h"

#define QWEN3_TRAIN_ATTN_NS portable
#include "train/train_attention_impl.h"

namespace qwen3::train {

#if QWEN3_ARCH_X86
namespace avx2 {
void attn_head_forward(const float* q, const float* k, const float* v, const AttnShape& s, float* P,
                       float* out);
void attn_head_backward(const float* q, const float* k, const float* v, const float* P,
                        const float* dout, const AttnShape& s, float* dq, float* dk, float* dv,
                        float* scratch);
}  // namespace avx2
#endif

void attn_head_forward(const float* q, const float* k, const float* v, const AttnShape& s, float* P,
                       float* out) {
#if QWEN3_ARCH_X86
  if (use_avx2()) return avx2::attn_head_forward(q, k, v, s, P, out);
#endif
  portable::attn_head_forward(q, k, v, s, P, out);
}

void attn_head_backward(const float* q, const float* k, const float* v, const float* P,
                        const float* dout, const AttnShape& s, float* dq, float* dk, float* dv,
                        float* scratch) {
#if QWEN3_ARCH_X86
  if (use_avx2()) return avx2::attn_head_backward(q, k, v, P, dout, s, dq, dk, dv, scratch);
#endif
  portable::attn_head_backward(q, k, v, P, dout, s, dq, dk, dv, scratch);
}

}  // namespace qwen3::train
