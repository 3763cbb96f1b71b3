// Test-only stand-in for OpenVINO's openvino/core/except.hpp: just enough declarations for
// OpenVINO GenAI's public headers (from its source tree) and our OpenVINO unit to compile, so
// scripts/check_openvino_api.sh --headers-only can check our calls against GenAI's real
// signatures where OpenVINO is not installed. Declarations only: nothing links against it.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
namespace ov {
class Exception : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
namespace mock {
inline void cat(std::ostringstream&) {}
template <class T, class... R>
void cat(std::ostringstream& s, const T& t, const R&... r) {
  s << t;
  cat(s, r...);
}
}  // namespace mock
}  // namespace ov
#define OPENVINO_ASSERT(cond, ...)         \
  do {                                     \
    if (!(cond)) {                         \
      std::ostringstream s_;               \
      ::ov::mock::cat(s_, "" __VA_ARGS__); \
      throw ::ov::Exception(s_.str());     \
    }                                      \
  } while (0)
#define OPENVINO_THROW(...)           \
  do {                                \
    std::ostringstream s_;            \
    ::ov::mock::cat(s_, __VA_ARGS__); \
    throw ::ov::Exception(s_.str());  \
  } while (0)
