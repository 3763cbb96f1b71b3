#include "model/kv_cache.h"

#include <cstring>
#include <stdexcept>

#include "kernels/fp16.h"
#include "model/qwen3_model.h"

namespace qwen3 {

KvCache::KvCache(int n_layers, int n_head_kv, int head_dim, int n_ctx, KvType type)
    : n_layers_(n_layers),
      n_head_kv_(n_head_kv),
      head_dim_(head_dim),
      n_ctx_(n_ctx),
      type_(type),
      esize_(type == KvType::F16 ? 2 : 4) {
  bytes_ = static_cast<size_t>(n_layers) * 2 * n_head_kv * n_ctx * head_dim * esize_;
  // new[] without value-initialisation: pages stay untouched (not resident) until used.
  data_.reset(new uint8_t[bytes_]);
}

void KvCache::write_row(uint8_t* dst, const float* src) const {
  if (type_ == KvType::F16)
    fp32_to_fp16_row(src, reinterpret_cast<uint16_t*>(dst), head_dim_);
  else
    std::memcpy(dst, src, head_dim_ * sizeof(float));
}

void KvCache::read_rows(const uint8_t* src, int n, float* dst) const {
  const int64_t count = static_cast<int64_t>(n) * head_dim_;
  if (type_ == KvType::F16)
    fp16_to_fp32_row(reinterpret_cast<const uint16_t*>(src), dst, count);
  else
    std::memcpy(dst, src, count * sizeof(float));
}

void KvCache::store(int layer, int pos, const float* k, const float* v) {
  const size_t row = static_cast<size_t>(pos) * head_dim_ * esize_;
  for (int h = 0; h < n_head_kv_; ++h) {
    write_row(data_.get() + offset(layer, 0, h) + row, k + h * head_dim_);
    write_row(data_.get() + offset(layer, 1, h) + row, v + h * head_dim_);
  }
}

void KvCache::read_k(int layer, int h, int first, int n, float* dst) const {
  read_rows(data_.get() + offset(layer, 0, h) + static_cast<size_t>(first) * head_dim_ * esize_, n,
            dst);
}

void KvCache::read_v(int layer, int h, int first, int n, float* dst) const {
  read_rows(data_.get() + offset(layer, 1, h) + static_cast<size_t>(first) * head_dim_ * esize_, n,
            dst);
}

}  // namespace qwen3
