// Key/value cache of one sequence: for each layer and KV head, n_ctx rows of head_dim
// values (F16 or F32), so the keys one attention head reads are contiguous. Memory is
// reserved up front but only touched as positions are written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace qwen3 {

enum class KvType;

class KvCache {
 public:
  KvCache(int n_layers, int n_head_kv, int head_dim, int n_ctx, KvType type);

  // k, v: n_head_kv * head_dim floats of one token at position pos.
  void store(int layer, int pos, const float* k, const float* v);
  // Rows 0..n-1 of head h, converted to float (dst: n * head_dim floats).
  void read_k(int layer, int h, int first, int n, float* dst) const;
  void read_v(int layer, int h, int first, int n, float* dst) const;
  // Raw rows (type() decides the element type: uint16_t fp16 or float).
  const void* k_rows(int layer, int h) const { return data_.get() + offset(layer, 0, h); }
  const void* v_rows(int layer, int h) const { return data_.get() + offset(layer, 1, h); }

  KvType type() const { return type_; }
  int n_ctx() const { return n_ctx_; }
  size_t bytes() const { return bytes_; }

 private:
  size_t offset(int layer, int kv, int h) const {
    return ((static_cast<size_t>(layer) * 2 + kv) * n_head_kv_ + h) * n_ctx_ * head_dim_ * esize_;
  }
  void write_row(uint8_t* dst, const float* src) const;
  void read_rows(const uint8_t* src, int n, float* dst) const;

  int n_layers_, n_head_kv_, head_dim_, n_ctx_;
  KvType type_;
  size_t esize_;
  size_t bytes_;
  std::unique_ptr<uint8_t[]> data_;
};

}  // namespace qwen3
