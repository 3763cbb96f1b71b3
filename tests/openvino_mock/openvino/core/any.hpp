// Test-only stand-in for OpenVINO's openvino/core/any.hpp: just enough declarations for
// OpenVINO GenAI's public headers (from its source tree) and our OpenVINO unit to compile, so
// scripts/check_openvino_api.sh --headers-only can check our calls against GenAI's real
// signatures where OpenVINO is not installed. Declarations only: nothing links against it.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include "openvino/core/except.hpp"
#include "openvino/core/visibility.hpp"
namespace ov {
class Any {
  struct Base {
    virtual ~Base() = default;
    virtual const std::type_info& type() const = 0;
  };
  template <class T>
  struct Impl : Base {
    T v;
    explicit Impl(T x) : v(std::move(x)) {}
    const std::type_info& type() const override { return typeid(T); }
  };
  std::shared_ptr<Base> p_;

 public:
  Any() = default;
  template <class T, class D = std::decay_t<T>,
            class = std::enable_if_t<!std::is_same<D, Any>::value>>
  Any(T&& v) : p_(std::make_shared<Impl<D>>(std::forward<T>(v))) {}
  Any(const char* s) : Any(std::string(s)) {}
  template <class T>
  bool is() const {
    return p_ && p_->type() == typeid(T);
  }
  template <class T>
  T& as() {
    if (!is<T>()) throw Exception("bad any cast");
    return static_cast<Impl<T>*>(p_.get())->v;
  }
  template <class T>
  const T& as() const {
    if (!is<T>()) throw Exception("bad any cast");
    return static_cast<const Impl<T>*>(p_.get())->v;
  }
  bool empty() const { return !p_; }
};
using AnyMap = std::map<std::string, Any>;
namespace util {
template <class... Args>
struct StringAny;
template <>
struct StringAny<> : std::true_type {};
template <class T, class... Args>
struct StringAny<T, Args...>
    : std::integral_constant<bool, std::is_constructible<std::pair<std::string, Any>, T>::value &&
                                       StringAny<Args...>::value> {};
template <class T, class... Args>
using EnableIfAllStringAny = typename std::enable_if<StringAny<Args...>::value, T>::type;
}  // namespace util
}  // namespace ov
