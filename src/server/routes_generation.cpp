// POST /v1/chat/completions and /v1/completions (and their llama.cpp aliases): run the
// request on a slot, then answer with one JSON object or an SSE stream of chunks.
#include <chrono>
#include <optional>

#include "server/generation_job.h"
#include "server/requests.h"
#include "server/responses.h"
#include "server/server_log.h"
#include "server/server_state.h"
#include "server/sse.h"
#include "text/json_limits.h"

namespace qwen3::server {
namespace {

using namespace std::chrono_literals;
constexpr auto kPoll = 50ms;  // how often a waiting handler checks its client

enum class Api { kChat, kText };

struct Call {
  Api api;
  ResponseIds ids;
  bool stream = false;
  bool include_usage = false;
  std::string echo;  // text completions with echo: the prompt, sent first
};

void record(ServerState& st, const DecodedResult& r) {
  const auto& m = r.perf_metrics;
  st.metrics.generation(r.prompt_tokens, r.cached_tokens, r.tokens.size(), m.ttft_ms.mean,
                        std::max(0.0, m.generate_ms.mean - m.ttft_ms.mean));
  st.metrics.inter_token_latencies(m.raw.token_intervals_ms);
  note_tokens(r.prompt_tokens, r.tokens.size());  // for the access log line
}

// A text completion has no reasoning or tool-call channel: everything is text (a tool call
// as one piece when it is complete), as OpenAI's and llama-server's raw completions are.
// A call cut by max_tokens (its arguments not a whole JSON value yet: chat sends them as
// the partial `arguments` of a call with finish_reason "length") ends in the text where the
// model stopped: no closing brace or </tool_call> is made up.
bool is_tool_piece(const GenEvent& e) {
  return e.kind == GenEvent::Kind::kToolCallBegin || e.kind == GenEvent::Kind::kToolCallArguments;
}

std::string as_text(const GenEvent& e) {
  if (e.kind != GenEvent::Kind::kToolCall) return e.text;
  std::string t = "<tool_call>\n{\"name\": " + OJson(e.call.name).dump() +
                  ", \"arguments\": " + e.call.arguments;
  try {
    text::parse_json(e.call.arguments);
  } catch (const text::JsonError&) {
    return t;  // cut inside the arguments
  }
  return t + "}\n</tool_call>";
}

// Choice `index` of an n > 1 reply: the chunk or response of one generation, renumbered.
OJson with_index(OJson j, std::optional<std::size_t> index) {
  if (index && j.contains("choices"))
    for (auto& c : j["choices"]) c["index"] = *index;
  return j;
}

// A text completion streams its reasoning as the model wrote it, inside <think> and
// </think>, as the unstreamed reply has it. `think_open` carries the state between calls.
std::string think_edge(const GenEvent* e, bool& think_open) {
  const bool reasoning = e && e->kind == GenEvent::Kind::kReasoning;
  if (reasoning == think_open) return {};
  think_open = reasoning;
  return reasoning ? "<think>" : "</think>";
}

// SSE chunks for the events taken so far, of one reply or of choice `index` of n.
std::string render_events(const Call& c, const std::vector<GenEvent>& events,
                          std::optional<std::size_t> index, bool& think_open) {
  std::string out;
  auto send = [&](OJson j) { out += sse_event(with_index(std::move(j), index)); };
  for (const auto& e : events) {
    if (c.api == Api::kText) {
      if (!is_tool_piece(e)) send(text_chunk(c.ids, think_edge(&e, think_open) + as_text(e)));
      continue;
    }
    switch (e.kind) {
      case GenEvent::Kind::kReasoning:
        send(chat_chunk(c.ids, reasoning_delta(e.text)));
        break;
      case GenEvent::Kind::kContent:
        send(chat_chunk(c.ids, content_delta(e.text)));
        break;
      case GenEvent::Kind::kToolCallBegin:
        send(chat_chunk(c.ids, tool_call_header_delta(e.index, e.call)));
        break;
      case GenEvent::Kind::kToolCallArguments:
        send(chat_chunk(c.ids, tool_call_arguments_delta(e.index, e.text)));
        break;
      case GenEvent::Kind::kToolCall:  // its pieces went out already
        break;
    }
  }
  return out;
}

// The last chunk of a finished text completion (or of its choice `index`): a reasoning
// still open is closed first, as in the unstreamed text.
OJson text_final_chunk(const Call& c, const Generation& g, std::optional<std::size_t> index,
                       bool& think_open) {
  OJson last = text_chunk(c.ids, think_edge(nullptr, think_open),
                          finish_reason_name(g.result().finish_reason));
  last["timings"] = timings_json(g.result());
  return with_index(std::move(last), index);
}

// True when the reply was cut because the server shuts down (not a real end).
bool cut_by_shutdown(const ServerState& st, const Generation& g) {
  return st.aborting && !g.error() && g.result().finish_reason == FinishReason::kCancelled;
}

ApiError shutdown_error() {
  return unavailable("the server shut down before the reply was complete");
}

std::string render_end(const ServerState& st, const Call& c, const Generation& g, bool& think_open) {
  std::string out;
  if (cut_by_shutdown(st, g)) {
    // No final chunk and no [DONE]: the client must not take the reply for complete.
    return sse_event(shutdown_error().to_json());
  }
  if (g.error()) {
    // Headers are gone already: the error travels as an event (as llama.cpp does).
    out += sse_event(g.error()->to_json());
  } else if (c.api == Api::kChat) {
    out += sse_event(chat_final_chunk(c.ids, g.result()));
    if (c.include_usage) out += sse_event(usage_chunk(c.ids, "chat.completion.chunk", g.result()));
  } else {
    out += sse_event(text_final_chunk(c, g, std::nullopt, think_open));
    if (c.include_usage) out += sse_event(usage_chunk(c.ids, "text_completion", g.result()));
  }
  return out + sse_done();
}

// The whole reply for a non-streaming request.
OJson final_json(const Call& c, const Generation& g) {
  if (c.api == Api::kChat) return chat_completion_json(c.ids, g.result());
  // Rebuild the raw text in generation order from the result's parts.
  const auto& r = g.result();
  std::string text = c.echo;
  if (!r.reasoning.empty()) text += "<think>" + r.reasoning + "</think>";
  text += r.text;
  for (std::size_t i = 0; i < r.tool_calls.size(); ++i) {
    GenEvent e{GenEvent::Kind::kToolCall, {}, static_cast<int>(i), r.tool_calls[i]};
    text += as_text(e);
  }
  return text_completion_json(c.ids, text, r);
}

// Waits until `g` has something to say; false if the client left first (then cancelled).
// Throws 503 when the server's shutdown cuts the request before it started.
bool wait_first_news(ServerState& st, Generation& g) {
  while (!g.wait_news(kPoll)) {
    if (client_gone() || st.aborting) {
      g.cancel();
      st.metrics.cancelled();
      if (st.aborting && !client_gone()) throw shutdown_error();
      return false;
    }
  }
  return true;
}

void respond(ServerState& st, HttpResponse& res, Call call, std::string affinity,
             Generation::Body body) {
  const auto arrived = std::chrono::steady_clock::now();
  auto g = Generation::start(st.slots(), std::move(affinity), std::move(body), &st.aborting);
  if (!g) {
    st.metrics.rejected();
    throw unavailable("the server is busy (" + std::to_string(st.opts.parallel) + " slots and " +
                      std::to_string(st.opts.max_queue) + " queue places taken); retry later");
  }
  if (!wait_first_news(st, *g)) return;
  // A failure before any output (bad prompt, context overflow) is a plain HTTP error.
  if (g->finished() && g->error()) throw *g->error();
  st.metrics.time_to_first_token(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - arrived)
          .count());

  if (!call.stream) {
    // Events keep coming while it generates: check the client at every wake-up.
    while (!g->finished()) {
      g->wait_news(kPoll);
      if (client_gone() || st.aborting) {
        g->cancel();
        st.metrics.cancelled();
        if (st.aborting) throw shutdown_error();  // never a 200 for a cut reply
        return;
      }
      if (!g->finished()) g->take(std::chrono::milliseconds(0));  // rebuilt from the result
    }
    if (g->error()) throw *g->error();
    if (cut_by_shutdown(st, *g)) throw shutdown_error();
    record(st, g->result());
    send_json(res, final_json(call, *g));
    return;
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto started = std::make_shared<bool>(false);
  auto think_open = std::make_shared<bool>(false);
  res.set_chunked_content_provider(
      "text/event-stream",
      [&st, g, call, started, think_open](StreamSink& sink) {
        std::string out;
        if (!*started) {
          *started = true;
          if (call.api == Api::kChat) out += sse_event(chat_chunk(call.ids, role_delta()));
          if (!call.echo.empty()) out += sse_event(text_chunk(call.ids, call.echo));
        }
        out += render_events(call, g->take(kPoll), std::nullopt, *think_open);
        const bool finished = g->finished();
        if (finished) {
          if (!g->error()) record(st, g->result());
          out += render_end(st, call, *g, *think_open);
        }
        if (!out.empty() && !sink.write(out.data(), out.size())) return false;
        if (finished) sink.done();
        return true;
      },
      [&st, g](bool success) {
        // The client went away (or the server stops): stop generating at the next token.
        if (!success && !g->finished()) {
          g->cancel();
          st.metrics.cancelled();
        }
      });
}

// Usage of n choices: the prompt once, the completions summed.
OJson usage_of(const std::vector<std::shared_ptr<Generation>>& gs) {
  OJson u = usage_json(gs.front()->result());
  std::size_t completion = 0;
  for (const auto& g : gs) completion += g->result().tokens.size();
  u["completion_tokens"] = completion;
  u["total_tokens"] = gs.front()->result().prompt_tokens + completion;
  return u;
}

// n > 1: one generation per choice. The first runs its prompt alone; the others start
// when it has produced its first token, so they find the prompt's KV blocks in the
// prefix cache and compute only the last partial block.
void respond_many(ServerState& st, HttpResponse& res, Call call, const std::string& affinity,
                  std::vector<Generation::Body> bodies) {
  const auto arrived = std::chrono::steady_clock::now();
  auto gs = std::make_shared<std::vector<std::shared_ptr<Generation>>>();
  auto cancel_all = [gs] {
    for (auto& g : *gs) g->cancel();
  };
  auto start = [&](std::size_t i) {
    auto g = Generation::start(st.slots(), affinity, std::move(bodies[i]), &st.aborting);
    if (!g) {
      cancel_all();
      st.metrics.rejected();
      throw unavailable("the server is busy (" + std::to_string(st.opts.parallel) + " slots and " +
                        std::to_string(st.opts.max_queue) + " queue places taken); retry later");
    }
    gs->push_back(std::move(g));
  };
  start(0);
  if (!wait_first_news(st, *gs->front())) return;
  if (gs->front()->finished() && gs->front()->error()) throw *gs->front()->error();
  st.metrics.time_to_first_token(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - arrived)
          .count());
  for (std::size_t i = 1; i < bodies.size(); ++i) start(i);

  if (!call.stream) {
    for (auto& g : *gs) {
      while (!g->finished()) {
        g->wait_news(kPoll);
        if (client_gone() || st.aborting) {
          cancel_all();
          st.metrics.cancelled();
          if (st.aborting) throw shutdown_error();
          return;
        }
        if (!g->finished()) g->take(std::chrono::milliseconds(0));
      }
    }
    for (auto& g : *gs) {
      if (g->error()) throw *g->error();
      if (cut_by_shutdown(st, *g)) throw shutdown_error();
    }
    OJson out = final_json(call, *gs->front());
    out["choices"] = OJson::array();
    for (std::size_t i = 0; i < gs->size(); ++i) {
      record(st, (*gs)[i]->result());
      out["choices"].push_back(with_index(final_json(call, *(*gs)[i]), i)["choices"][0]);
    }
    out["usage"] = usage_of(*gs);
    send_json(res, out);
    return;
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto ended = std::make_shared<std::vector<bool>>(gs->size(), false);
  auto started = std::make_shared<bool>(false);
  auto think_open = std::make_shared<std::vector<char>>(gs->size(), 0);
  res.set_chunked_content_provider(
      "text/event-stream",
      [&st, gs, call, ended, started, think_open](StreamSink& sink) {
        std::string out;
        if (!*started) {
          *started = true;
          for (std::size_t i = 0; i < gs->size(); ++i) {
            if (call.api == Api::kChat)
              out += sse_event(with_index(chat_chunk(call.ids, role_delta()), i));
            if (!call.echo.empty())
              out += sse_event(with_index(text_chunk(call.ids, call.echo), i));
          }
        }
        bool all = true, waited = false;
        for (std::size_t i = 0; i < gs->size(); ++i) {
          if ((*ended)[i]) continue;
          Generation& g = *(*gs)[i];
          // Wait on the first unfinished choice only; take what the others have.
          bool open = (*think_open)[i];
          out += render_events(call, g.take(waited ? std::chrono::milliseconds(0) : kPoll), i, open);
          waited = true;
          if (!g.finished()) {
            (*think_open)[i] = open;
            all = false;
            continue;
          }
          (*ended)[i] = true;
          if (cut_by_shutdown(st, g)) {
            out += sse_event(shutdown_error().to_json());
          } else if (g.error()) {
            out += sse_event(g.error()->to_json());
          } else {
            record(st, g.result());
            if (call.api == Api::kChat) {
              out += sse_event(with_index(chat_final_chunk(call.ids, g.result()), i));
            } else {
              out += sse_event(text_final_chunk(call, g, i, open));
            }
          }
        }
        if (all) {
          bool clean = true;
          for (auto& g : *gs) clean = clean && !g->error() && !cut_by_shutdown(st, *g);
          if (clean && call.include_usage) {
            OJson u = usage_chunk(
                call.ids, call.api == Api::kChat ? "chat.completion.chunk" : "text_completion",
                gs->front()->result());
            u["usage"] = usage_of(*gs);
            out += sse_event(u);
          }
          if (clean) out += sse_done();
        }
        if (!out.empty() && !sink.write(out.data(), out.size())) return false;
        if (all) sink.done();
        return true;
      },
      [&st, gs, cancel_all](bool success) {
        bool running = false;
        for (auto& g : *gs) running = running || !g->finished();
        if (!success && running) {
          cancel_all();
          st.metrics.cancelled();
        }
      });
}

// The per-choice configs: a seeded request's choice i samples with seed + i.
std::vector<GenerationConfig> choice_configs(const GenerationConfig& c, int n) {
  std::vector<GenerationConfig> out(static_cast<std::size_t>(n), c);
  for (int i = 0; i < n; ++i)
    if (c.seed) out[static_cast<std::size_t>(i)].seed = *c.seed + static_cast<std::uint64_t>(i);
  return out;
}

// Runs the request's one generation, or its n choices (seeds counted up from the
// request's), on `input`: a ChatHistory or a raw prompt.
template <typename Input>
void generate_choices(ServerState& st, HttpResponse& res, Call call, std::string affinity,
                      const AdapterConfig& lora, Input input, const GenerationConfig& config,
                      int n) {
  if (n > 1) {
    std::vector<Generation::Body> bodies;
    for (const auto& c : choice_configs(config, n))
      bodies.push_back(with_adapters(
          lora, [input, c](Pipeline& p, StreamerBase& s) { return p.generate(input, c, &s); }));
    respond_many(st, res, std::move(call), affinity, std::move(bodies));
    return;
  }
  respond(st, res, std::move(call), std::move(affinity),
          with_adapters(lora, [input = std::move(input), config](Pipeline& p, StreamerBase& s) {
            return p.generate(input, config, &s);
          }));
}

std::size_t default_max_tokens(const ServerState& st) {
  return st.n_ctx;
}

void chat_completions(ServerState& st, const HttpRequest& req, HttpResponse& res) {
  Json body = request_json(st, req);
  st.slots();  // 503 while loading, before any parsing that needs the context size
  ChatRequest r = parse_chat_request(body, st.n_ctx, st.opts.images);
  check_model(r.model, st.opts.model_name, st.opts.aliases);
  for (const auto& m : r.history.messages)
    if (!m.images.empty() && !st.opts.properties.count("mmproj"))
      throw invalid_request(
          "this server takes no images: serve a Qwen3-VL model with its vision "
          "encoder (qwen3 serve --mmproj MMPROJ.gguf)",
          "messages", "images_not_supported");
  const AdapterConfig lora = st.lora->for_request(body);  // "lora": [{id, scale}]
  r.cache_key = lora_affinity(lora) + r.cache_key;
  if (!r.max_tokens_given) r.config.max_new_tokens = default_max_tokens(st);
  Call call{Api::kChat,
            {new_response_id("chatcmpl"), st.opts.model_name, unix_time_now()},
            r.stream,
            r.include_usage,
            {}};
  generate_choices(st, res, std::move(call), r.cache_key, lora, std::move(r.history), r.config,
                   r.n);
}

void completions(ServerState& st, const HttpRequest& req, HttpResponse& res) {
  Json body = request_json(st, req);
  Scheduler& slots = st.slots();
  CompletionRequest r = parse_completion_request(body, st.n_ctx);
  check_model(r.model, st.opts.model_name, st.opts.aliases);
  const AdapterConfig lora = st.lora->for_request(body);  // "lora": [{id, scale}]
  if (!r.prompt_ids.empty()) {
    try {
      r.prompt = slots.pipeline().decode(r.prompt_ids);
    } catch (const std::exception& e) {
      throw invalid_request(std::string("bad token id in 'prompt': ") + e.what(), "prompt");
    }
  }
  if (!r.max_tokens_given) r.config.max_new_tokens = default_max_tokens(st);
  Call call{Api::kText,
            {new_response_id("cmpl"), st.opts.model_name, unix_time_now()},
            r.stream,
            r.include_usage,
            r.echo ? r.prompt : std::string()};
  std::string affinity = lora_affinity(lora) + r.prompt;
  generate_choices(st, res, std::move(call), std::move(affinity), lora, std::move(r.prompt),
                   r.config, r.n);
}

}  // namespace

void add_generation_routes(ServerState& st) {
  auto chat = endpoint(st, "chat_completions", false,
                       [&st](const auto& req, auto& res) { chat_completions(st, req, res); });
  st.http.Post("/v1/chat/completions", chat);
  st.http.Post("/chat/completions", chat);
  auto text = endpoint(st, "completions", false,
                       [&st](const auto& req, auto& res) { completions(st, req, res); });
  st.http.Post("/v1/completions", text);
  st.http.Post("/completions", text);
}

}  // namespace qwen3::server
