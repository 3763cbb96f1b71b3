// train_attention_impl.h compiled with -mavx2 -mfma (the layer's *_avx2.cpp rule).
#define QWEN3_TRAIN_ATTN_NS avx2
#include "train/train_attention_impl.h"
