#include "text/tool_call_stream.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "text/json_limits.h"
#include "text/tool_call.h"

namespace qwen3::text {
namespace {

using ojson = nlohmann::ordered_json;

// A head longer than this without the name decided is not taken apart while streaming.
constexpr std::size_t kMaxHead = 4096;

constexpr std::string_view kFn = "<function=", kFnEnd = "</function>";
constexpr std::string_view kParam = "<parameter=", kParamEnd = "</parameter>";

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// JSON string escaping of a piece; escaping is per character, so pieces concatenate.
std::string escape(std::string_view s) {
  const std::string d = ojson(std::string(s)).dump(-1, ' ', false, ojson::error_handler_t::replace);
  return d.substr(1, d.size() - 2);
}

// The length of the longest suffix of `s` that is a proper prefix of one of `tags`.
template <size_t N>
size_t partial_tag_suffix(std::string_view s, const std::array<std::string_view, N>& tags) {
  size_t best = 0;
  for (std::string_view tag : tags)
    for (size_t len = std::min(tag.size() - 1, s.size()); len > best; --len)
      if (s.compare(s.size() - len, len, tag, 0, len) == 0) {
        best = len;
        break;
      }
  return best;
}

enum class Match { kMore, kNo, kYes };

// Reads the JSON call head ws '{' "name" ':' STRING ',' ("arguments"|"parameters") ':' '{'.
struct HeadCursor {
  std::string_view s;
  size_t pos = 0;
  void ws() {
    while (pos < s.size() && is_ws(s[pos])) ++pos;
  }
  Match ch(char c) {
    ws();
    if (pos >= s.size()) return Match::kMore;
    if (s[pos] != c) return Match::kNo;
    ++pos;
    return Match::kYes;
  }
  Match str(std::string& out) {
    ws();
    if (pos >= s.size()) return Match::kMore;
    if (s[pos] != '"') return Match::kNo;
    size_t i = pos + 1;
    for (bool esc = false; i < s.size(); ++i) {
      if (esc)
        esc = false;
      else if (s[i] == '\\')
        esc = true;
      else if (s[i] == '"')
        break;
    }
    if (i >= s.size()) return Match::kMore;
    try {
      const ojson j = parse_json(s.substr(pos, i + 1 - pos));
      out = j.get<std::string>();
    } catch (const std::exception&) {
      return Match::kNo;
    }
    pos = i + 1;
    return Match::kYes;
  }
};

Match match_json_head(std::string_view s, std::string& name, size_t& args_pos) {
  HeadCursor c{s};
  std::string key;
  Match m;
  if ((m = c.ch('{')) != Match::kYes) return m;
  if ((m = c.str(key)) != Match::kYes) return m;
  if (key != "name") return Match::kNo;
  if ((m = c.ch(':')) != Match::kYes) return m;
  if ((m = c.str(name)) != Match::kYes) return m;
  if (name.empty()) return Match::kNo;
  if ((m = c.ch(',')) != Match::kYes) return m;
  if ((m = c.str(key)) != Match::kYes) return m;
  if (key != "arguments" && key != "parameters") return Match::kNo;
  if ((m = c.ch(':')) != Match::kYes) return m;
  c.ws();
  if (c.pos >= s.size()) return Match::kMore;
  if (s[c.pos] != '{') return Match::kNo;
  args_pos = c.pos;
  return Match::kYes;
}

}  // namespace

ToolCallStream::ToolCallStream(ToolCallFormat format, const ojson* tools)
    : format_(format), tools_(tools) {}

void ToolCallStream::emit(std::string_view s, std::string& args) {
  arguments_.append(s.data(), s.size());
  args.append(s.data(), s.size());
}

void ToolCallStream::push(std::string_view text, std::string& args) {
  body_.append(text.data(), text.size());
  if (phase_ == Phase::kWhole || phase_ == Phase::kNotCall || phase_ == Phase::kDone ||
      phase_ == Phase::kTail)
    return;
  buf_.append(text.data(), text.size());
  step(false, args);
}

std::optional<qwen3::ToolCall> ToolCallStream::finish(std::string& args) {
  step(true, args);
  if (format_ == ToolCallFormat::kXml) {
    if (!started_) return std::nullopt;
    emit("}", args);
  } else if (!started_) {
    // A shape the stream does not take apart: the whole body, parsed at once.
    auto call = parse_tool_call_whole(body_);
    if (!call) return std::nullopt;
    started_ = true;
    name_ = call->name;
    emit(call->arguments, args);
  }
  qwen3::ToolCall call;
  call.name = name_;
  call.arguments = arguments_;
  return call;
}

void ToolCallStream::step(bool final, std::string& args) {
  if (format_ == ToolCallFormat::kXml) return xml_step(final, args);
  if (phase_ == Phase::kHead) json_head(final, args);
  if (phase_ == Phase::kArgs) json_args(args);
  if (phase_ != Phase::kHead) buf_.clear();
}

void ToolCallStream::json_head(bool final, std::string& args) {
  size_t pos = 0;
  std::string name;
  Match m = match_json_head(buf_, name, pos);
  if (m == Match::kMore && (final || buf_.size() > kMaxHead)) m = Match::kNo;
  if (m == Match::kNo) {
    phase_ = Phase::kWhole;
    buf_.clear();
  } else if (m == Match::kYes) {
    started_ = true;
    name_ = std::move(name);
    buf_.erase(0, pos);
    phase_ = Phase::kArgs;
    json_args(args);
  }
}

void ToolCallStream::json_args(std::string& args) {
  std::string out;
  size_t i = 0;
  for (; i < buf_.size(); ++i) {
    const char c = buf_[i];
    if (in_string_) {
      out += c;
      if (escape_)
        escape_ = false;
      else if (c == '\\')
        escape_ = true;
      else if (c == '"')
        in_string_ = false;
      continue;
    }
    if (is_ws(c)) continue;
    out += c;
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if ((c == '}' || c == ']') && --depth_ <= 0) {
      phase_ = Phase::kTail;  // the rest of the object is not part of the arguments
      break;
    }
  }
  buf_.clear();
  emit(out, args);
}

void ToolCallStream::xml_step(bool final, std::string& args) {
  while (true) {
    switch (phase_) {
      case Phase::kHead: {
        const size_t b = buf_.find_first_not_of(" \t\r\n");
        if (b == std::string::npos) {
          if (final) phase_ = Phase::kNotCall;
          return;
        }
        const std::string_view s = std::string_view(buf_).substr(b);
        const size_t n = std::min(s.size(), kFn.size());
        if (s.compare(0, n, kFn, 0, n) != 0) {
          phase_ = Phase::kNotCall;
          return;
        }
        const size_t gt = s.size() < kFn.size() ? std::string_view::npos : s.find('>', kFn.size());
        if (gt == std::string_view::npos) {
          if (final || buf_.size() > kMaxHead) phase_ = Phase::kNotCall;
          return;
        }
        const std::string_view name = trim(s.substr(kFn.size(), gt - kFn.size()));
        if (name.empty() || name.find('\n') != std::string_view::npos) {
          phase_ = Phase::kNotCall;
          return;
        }
        name_ = std::string(name);
        started_ = true;
        emit("{", args);
        buf_.erase(0, b + gt + 1);
        phase_ = Phase::kBetween;
        break;
      }
      case Phase::kBetween: {
        const size_t p = buf_.find(kParam);
        const size_t fe = buf_.find(kFnEnd);
        if (fe != std::string::npos && (p == std::string::npos || fe < p)) {
          phase_ = Phase::kDone;
          buf_.clear();
          return;
        }
        if (p == std::string::npos) {
          // Text between parameters is not part of the call; keep what may start a tag.
          const size_t keep =
              final ? 0 : partial_tag_suffix(buf_, std::array<std::string_view, 2>{kParam, kFnEnd});
          buf_.erase(0, buf_.size() - keep);
          return;
        }
        buf_.erase(0, p + kParam.size());
        scanned_ = 0;
        phase_ = Phase::kParamName;
        break;
      }
      case Phase::kParamName: {
        const size_t gt = buf_.find('>', scanned_);
        scanned_ = buf_.size();
        if (gt == std::string::npos) {
          if (final) {  // a parameter without its name's end is dropped
            phase_ = Phase::kDone;
            buf_.clear();
          }
          return;
        }
        const std::string pname(trim(std::string_view(buf_).substr(0, gt)));
        buf_.erase(0, gt + 1);
        skip_param_ =
            std::find(seen_params_.begin(), seen_params_.end(), pname) != seen_params_.end();
        if (!skip_param_) {
          emit((seen_params_.empty() ? "" : ",") +
                   ojson(pname).dump(-1, ' ', false, ojson::error_handler_t::replace) + ":",
               args);
          seen_params_.push_back(pname);
        }
        param_type_ = tools_ ? xml_param_type(*tools_, name_, pname) : XmlParamType{};
        value_started_ = quote_open_ = false;
        scanned_ = 0;
        phase_ = Phase::kValue;
        break;
      }
      case Phase::kValue:
        if (!xml_value(final, args)) return;
        break;
      case Phase::kTail:
      case Phase::kWhole:
      case Phase::kNotCall:
      case Phase::kDone:
      case Phase::kArgs:
        buf_.clear();
        return;
    }
  }
}

bool ToolCallStream::xml_value(bool final, std::string& args) {
  if (!value_started_) {
    if (buf_.empty() && !final) return false;
    if (!buf_.empty() && buf_[0] == '\n') buf_.erase(0, 1);  // framing after <parameter=P>
    value_started_ = true;
  }
  // A long typed value arrives in many pieces: look for its end only in the new text.
  const size_t from = scanned_ > kParamEnd.size() ? scanned_ - kParamEnd.size() : 0;
  scanned_ = buf_.size();
  const size_t stop =
      std::min({buf_.find(kParamEnd, from), buf_.find(kParam, from), buf_.find(kFnEnd, from)});
  if (stop != std::string::npos || final) {
    std::string_view value = std::string_view(buf_).substr(0, stop);
    if (!value.empty() && value.back() == '\n') value.remove_suffix(1);  // framing
    xml_end_value(value, args);
    if (stop == std::string::npos)
      buf_.clear();
    else
      buf_.erase(
          0, buf_.compare(stop, kParamEnd.size(), kParamEnd) == 0 ? stop + kParamEnd.size() : stop);
    phase_ = Phase::kBetween;
    return true;
  }
  if (!xml_string_like(param_type_.type)) return false;  // typed values convert when complete
  size_t avail = buf_.size() - partial_tag_suffix(buf_, std::array<std::string_view, 3>{
                                                            kParamEnd, kParam, kFnEnd});
  if (avail > 0 && buf_[avail - 1] == '\n') --avail;  // may be the framing before the end
  if (avail == 0) return false;
  const std::string_view ready = std::string_view(buf_).substr(0, avail);
  // A declared string whose whole value is "null" means null: wait until it cannot be.
  if (param_type_.nullable && !quote_open_ && ready.size() <= 4 &&
      lower(ready) == std::string_view("null").substr(0, ready.size()))
    return false;
  if (!skip_param_) {
    if (!quote_open_) emit("\"", args);
    emit(escape(ready), args);
  }
  quote_open_ = true;
  buf_.erase(0, avail);
  scanned_ = 0;
  return false;
}

void ToolCallStream::xml_end_value(std::string_view value, std::string& args) {
  if (skip_param_) return;
  if (!xml_string_like(param_type_.type)) {
    emit(xml_typed_value(std::string(value), param_type_)
             .dump(-1, ' ', false, ojson::error_handler_t::replace),
         args);
  } else if (quote_open_) {
    emit(escape(value) + "\"", args);
  } else if (param_type_.nullable && lower(value) == "null") {
    emit("null", args);
  } else {
    emit("\"" + escape(value) + "\"", args);
  }
}

}  // namespace qwen3::text
