// ServerLora: the adapter list, its global scales and the per-request "lora" field (see
// server_lora.h).
#include "server/server_lora.h"

#include <cstdint>
#include <cstring>

#include "server/api_error.h"

namespace qwen3::server {
namespace {

constexpr double kMaxScale = 100.0;  // |scale| at most (a typo guard; 1 is the usual)
constexpr std::size_t kMaxEntries = 1024;

}  // namespace

Json ServerLora::list() const {
  std::lock_guard<std::mutex> lock(mu_);
  Json out = Json::array();
  for (std::size_t i = 0; i < adapters_.adapters.size(); ++i)
    out.push_back(
        {{"id", i}, {"path", adapters_.adapters[i].path}, {"scale", adapters_.adapters[i].alpha}});
  return out;
}

std::vector<float> ServerLora::parse_scales(const Json& list, const std::string& field) const {
  const std::string where = field.empty() ? std::string("body") : "'" + field + "'";
  if (!list.is_array())
    throw invalid_request(where + " must be an array of {\"id\", \"scale\"} objects, got " +
                              std::string(list.type_name()),
                          field, "invalid_type");
  if (list.size() > kMaxEntries)
    throw invalid_request(where + " has more than " + std::to_string(kMaxEntries) + " entries",
                          field);
  const std::size_t n = size();
  std::vector<float> scales(n, 0.0f);
  std::vector<bool> seen(n, false);
  for (std::size_t k = 0; k < list.size(); ++k) {
    const std::string at = (field.empty() ? "" : field) + "[" + std::to_string(k) + "]";
    const Json& e = list[k];
    if (!e.is_object())
      throw invalid_request(
          "'" + at + "' must be an object {\"id\", \"scale\"}, got " + std::string(e.type_name()),
          at, "invalid_type");
    for (const auto& kv : e.items())
      if (kv.key() != "id" && kv.key() != "scale")
        throw invalid_request("'" + at + "' has an unknown field '" + kv.key() +
                                  "' (a LoRA entry is {\"id\", \"scale\"})",
                              at + "." + kv.key(), "unknown_field");
    const JsonFields f(e, at + ".");
    if (!f.has("id") || !f.has("scale"))
      throw invalid_request("'" + at + "' needs both \"id\" and \"scale\"",
                            at + (f.has("id") ? ".scale" : ".id"), "missing_field");
    const std::int64_t id = *f.integer("id", INT64_MIN, INT64_MAX);
    if (id < 0 || static_cast<std::uint64_t>(id) >= n)
      throw invalid_request(
          "unknown LoRA adapter id " + std::to_string(id) + " in '" + at + "' (" +
              (n == 0 ? std::string("the server has no adapters: start it with --lora")
                      : "the server has " + std::to_string(n) + ": ids 0.." +
                            std::to_string(n - 1) + ", see GET /lora-adapters") +
              ")",
          f.name("id"), "unknown_adapter");
    const double scale = *f.number("scale", -kMaxScale, kMaxScale);
    if (seen[static_cast<std::size_t>(id)])
      throw invalid_request(
          "LoRA adapter id " + std::to_string(id) + " is listed twice in " + where, f.name("id"),
          "duplicate_adapter");
    seen[static_cast<std::size_t>(id)] = true;
    scales[static_cast<std::size_t>(id)] = static_cast<float>(scale);
  }
  return scales;
}

void ServerLora::set_scales(const Json& body) {
  const std::vector<float> scales = parse_scales(body, "");
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < scales.size(); ++i) adapters_.adapters[i].alpha = scales[i];
}

AdapterConfig ServerLora::for_request(const Json& body) const {
  auto it = body.find("lora");
  if (it == body.end() || it->is_null()) {
    std::lock_guard<std::mutex> lock(mu_);
    return adapters_;
  }
  const std::vector<float> scales = parse_scales(*it, "lora");
  std::unique_lock<std::mutex> lock(mu_);
  AdapterConfig c = adapters_;
  lock.unlock();
  for (std::size_t i = 0; i < scales.size(); ++i) c.adapters[i].alpha = scales[i];
  return c;
}

std::string lora_affinity(const AdapterConfig& adapters) {
  // The base model (no adapter with a non-zero scale) has no prefix.
  std::string key;
  bool active = false;
  for (const auto& a : adapters.adapters) {
    const float s = a.alpha == 0.0f ? 0.0f : a.alpha;  // -0 is 0
    std::uint32_t bits;
    std::memcpy(&bits, &s, sizeof bits);
    key += std::to_string(bits) + ",";
    active = active || s != 0.0f;
  }
  return active ? "lora:" + key + "\n" : std::string();
}

Generation::Body with_adapters(AdapterConfig adapters, Generation::Body body) {
  if (adapters.empty()) return body;
  return [adapters = std::move(adapters), body = std::move(body)](Pipeline& p, StreamerBase& s) {
    p.set_adapters(adapters);
    return body(p, s);
  };
}

}  // namespace qwen3::server
