// GET /health, GET /v1/models (and /models), GET /metrics.
#include "server/responses.h"
#include "server/server_state.h"

namespace qwen3::server {

void add_info_routes(ServerState& st) {
  st.http.Get("/health", endpoint(st, "health", true, [&st](const auto&, auto& res) {
                if (!st.ready) {
                  send_error(res, unavailable("the model is loading"));
                  return;
                }
                send_json(res, {{"status", "ok"}});
              }));

  auto models = endpoint(st, "models", false, [&st](const auto&, auto& res) {
    OJson model = {{"id", st.opts.model_name},
                   {"object", "model"},
                   {"created", unix_time_now()},
                   {"owned_by", "qwen3-runtime"}};
    if (st.ready) {
      const auto info = st.scheduler->pipeline().info();
      model["meta"] = {{"n_ctx", info.n_ctx},          {"backend", info.backend},
                       {"device", info.device},        {"kv_reuse", info.kv_reuse},
                       {"parallel", st.opts.parallel}, {"tier", st.tier},
                       {"handoff", info.handoff}};
      OJson failed = OJson::array();
      for (const auto& f : st.failed_tiers)
        failed.push_back({{"tier", f.tier}, {"reason", f.reason}});
      model["meta"]["failed_tiers"] = failed;
      if (info.max_prompt_tokens > 0) model["meta"]["max_prompt_tokens"] = info.max_prompt_tokens;
      // Whether user messages may hold images (a vision encoder: --mmproj); the web page
      // shows its attach button only then.
      model["meta"]["vision"] = st.opts.properties.count("mmproj") > 0;
    }
    send_json(res, {{"object", "list"}, {"data", OJson::array({model})}});
  });
  st.http.Get("/v1/models", models);
  st.http.Get("/models", models);

  st.http.Get("/metrics", endpoint(st, "metrics", false, [&st](const auto&, auto& res) {
                st.metrics.processing = st.ready ? static_cast<int>(st.scheduler->running()) : 0;
                st.metrics.queued = st.ready ? static_cast<int>(st.scheduler->queued()) : 0;
                engine::BatchEngineStats es;
                const engine::BatchEngine* e = st.ready ? st.scheduler->engine() : nullptr;
                if (e) es = e->stats();
                res.set_content(st.metrics.render(st.opts.parallel, e ? &es : nullptr),
                                "text/plain; version=0.0.4; charset=utf-8");
              }));
}

}  // namespace qwen3::server
