// GET /lora-adapters (the adapters `serve --lora` loaded: id, path, global scale) and
// POST /lora-adapters (sets the global scales), as llama-server has them.
#include "server/request_limits.h"
#include "server/server_lora.h"
#include "server/server_state.h"
#include "text/json_limits.h"

namespace qwen3::server {
namespace {

// The body as JSON of any type (the POST body is an array); 400 if malformed.
Json request_json_value(const ServerState& st, const HttpRequest& req) {
  if (req.body.size() > st.opts.max_body_bytes) throw payload_too_large(st.opts.max_body_bytes);
  try {
    return text::parse_json(req.body, limits::kJson);
  } catch (const text::JsonError& e) {
    throw invalid_request(
        std::string("request body is ") + e.what(), {},
        e.kind() == text::JsonError::Kind::kSyntax ? "invalid_json" : "invalid_value");
  }
}

}  // namespace

void add_lora_routes(ServerState& st) {
  auto it = st.opts.properties.find("lora");
  st.lora = std::make_unique<ServerLora>(
      it == st.opts.properties.end() ? AdapterConfig() : AdapterConfig::from_property(it->second));
  st.http.Get("/lora-adapters", endpoint(st, "lora_adapters", false, [&st](const auto&, auto& res) {
                send_json(res, st.lora->list());
              }));
  st.http.Post("/lora-adapters",
               endpoint(st, "lora_adapters", false, [&st](const auto& req, auto& res) {
                 st.lora->set_scales(request_json_value(st, req));
                 send_json(res, {{"success", true}});
               }));
}

}  // namespace qwen3::server
