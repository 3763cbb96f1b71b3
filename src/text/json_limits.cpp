// parse_json: nlohmann's DOM builder behind a SAX filter that enforces JsonLimits.
#include "text/json_limits.h"

#include <optional>
#include <utility>
#include <vector>

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;
using DomParser = nlohmann::detail::json_sax_dom_parser<ojson>;

// Forwards every event to the DOM builder after checking it against the limits; the first
// violation stops the parse (returning false ends nlohmann's parser loop).
class LimitedSax {
 public:
  LimitedSax(ojson& root, const JsonLimits& limits) : dom_(root, false), lim_(limits) {}

  bool null() { return value() && dom_.null(); }
  bool boolean(bool v) { return value() && dom_.boolean(v); }
  bool number_integer(ojson::number_integer_t v) { return value() && dom_.number_integer(v); }
  bool number_unsigned(ojson::number_unsigned_t v) { return value() && dom_.number_unsigned(v); }
  bool number_float(ojson::number_float_t v, const ojson::string_t& s) {
    return value() && dom_.number_float(v, s);
  }
  bool string(ojson::string_t& s) {
    if (lim_.max_data_url_bytes > lim_.max_string_bytes && s.size() > lim_.max_string_bytes &&
        s.compare(0, 5, "data:") == 0) {
      if (s.size() <= lim_.max_data_url_bytes) return value() && dom_.string(s);
      return value() && fail("a JSON string holding a data URL is longer than the limit of " +
                             std::to_string(lim_.max_data_url_bytes) + " bytes");
    }
    return value() && string_fits(s, "string") && dom_.string(s);
  }
  bool binary(ojson::binary_t& b) { return value() && dom_.binary(b); }
  bool key(ojson::string_t& k) {
    if (!string_fits(k, "object key")) return false;
    if (++members_.back() > lim_.max_object_members) {
      return fail("a JSON object has more than the limit of " +
                  std::to_string(lim_.max_object_members) + " members");
    }
    return dom_.key(k);
  }
  bool start_object(std::size_t n) { return value() && open(false) && dom_.start_object(n); }
  bool end_object() {
    close();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return value() && open(true) && dom_.start_array(n); }
  bool end_array() {
    close();
    return dom_.end_array();
  }
  bool parse_error(std::size_t byte, const std::string& token,
                   const nlohmann::detail::exception& e) {
    if (error_) return false;  // a limit stopped the parse first
    if (e.id == 406) {         // out_of_range.406: number overflow
      error_.emplace(JsonError::Kind::kNumberOverflow,
                     "number " + token + " at byte " + std::to_string(byte) + " is out of range",
                     byte);
    } else {
      // nlohmann's message without its "[json.exception...] parse error at line 1, column
      // 2: " preamble; the byte says where.
      std::string why = e.what();
      if (auto p = why.find(": "); p != std::string::npos) why = why.substr(p + 2);
      error_.emplace(JsonError::Kind::kSyntax,
                     "not valid JSON at byte " + std::to_string(byte) + ": " + why, byte);
    }
    return false;
  }

  const std::optional<JsonError>& error() const { return error_; }

 private:
  bool fail(const std::string& message) {
    if (!error_) error_.emplace(JsonError::Kind::kLimit, message);
    return false;
  }
  // Every value counts toward the document's total and its array's length.
  bool value() {
    if (++values_ > lim_.max_values) {
      return fail("JSON holds more than the limit of " + std::to_string(lim_.max_values) +
                  " values");
    }
    if (!is_array_.empty() && is_array_.back() && ++members_.back() > lim_.max_array_items) {
      return fail("a JSON array has more than the limit of " +
                  std::to_string(lim_.max_array_items) + " items");
    }
    return true;
  }
  // Enters an object or array, within the depth limit.
  bool open(bool array) {
    if (is_array_.size() + 1 > lim_.max_depth) {
      return fail("JSON nesting is deeper than the limit of " + std::to_string(lim_.max_depth) +
                  " levels");
    }
    is_array_.push_back(array);
    members_.push_back(0);
    return true;
  }
  void close() {
    is_array_.pop_back();
    members_.pop_back();
  }
  bool string_fits(const std::string& s, const char* what) {
    if (s.size() <= lim_.max_string_bytes) return true;
    return fail(std::string("a JSON ") + what + " is longer than the limit of " +
                std::to_string(lim_.max_string_bytes) + " bytes");
  }

  DomParser dom_;
  const JsonLimits& lim_;
  std::vector<bool> is_array_;        // the open containers, innermost last
  std::vector<std::size_t> members_;  // items / members of each open container
  std::size_t values_ = 0;
  std::optional<JsonError> error_;
};

}  // namespace

ojson parse_json(std::string_view text, const JsonLimits& limits) {
  ojson root;
  LimitedSax sax(root, limits);
  const bool ok = ojson::sax_parse(text.begin(), text.end(), &sax);
  if (sax.error()) throw *sax.error();
  if (!ok || root.is_discarded()) throw JsonError(JsonError::Kind::kSyntax, "not valid JSON");
  return root;
}

}  // namespace qwen3::text
