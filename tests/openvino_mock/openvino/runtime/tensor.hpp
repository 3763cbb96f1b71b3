// Test-only stand-in for OpenVINO's openvino/runtime/tensor.hpp: just enough declarations for
// OpenVINO GenAI's public headers (from its source tree) and our OpenVINO unit to compile, so
// scripts/check_openvino_api.sh --headers-only can check our calls against GenAI's real
// signatures where OpenVINO is not installed. Declarations only: nothing links against it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>
#include "openvino/core/any.hpp"
namespace ov {
using Shape = std::vector<size_t>;
namespace element {
class Type {
 public:
  int id = 0;
  constexpr Type() = default;
  constexpr Type(int i) : id(i) {}
};
static constexpr Type i64{1};
static constexpr Type f32{2};
}  // namespace element
class Tensor {
 public:
  Tensor() = default;
  Tensor(const element::Type&, const Shape&);
  Tensor(const element::Type&, const Shape&, void* host_ptr);
  const Shape& get_shape() const;
  void set_shape(const Shape&);
  size_t get_size() const;
  element::Type get_element_type() const;
  template <class T>
  T* data();
  template <class T>
  const T* data() const;
  void* data();
  void copy_to(Tensor& dst) const;
  explicit operator bool() const noexcept;
};
}  // namespace ov
