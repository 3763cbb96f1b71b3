// POST /tokenize, /detokenize, /apply-template (llama.cpp's request and reply shapes).
#include "server/request_limits.h"
#include "server/requests.h"
#include "server/responses.h"
#include "server/server_state.h"
#include "text/utf8.h"

namespace qwen3::server {
namespace {

// A token's text as JSON: the string when it is whole UTF-8, else its bytes (a token
// can hold part of a multi-byte character).
void append_piece(std::string& out, const std::string& piece) {
  if (utf8::is_valid(piece)) {
    out += OJson(piece).dump();
    return;
  }
  out += '[';
  for (std::size_t i = 0; i < piece.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(static_cast<unsigned char>(piece[i]));
  }
  out += ']';
}

// The /tokenize reply as JSON text, written directly: a DOM of a large reply would cost
// an allocation per token (and ten times the reply's size).
std::string tokenize_reply(const Pipeline& p, const Json& body) {
  JsonFields f(body, "");
  auto content = f.string("content");
  if (!content) throw invalid_request("'content' is required", "content", "missing");
  if (content->size() > limits::kMaxTokenizeBytes) {
    throw limit_exceeded("content", "is", content->size(), "bytes", limits::kMaxTokenizeBytes);
  }
  bool special = f.boolean("parse_special").value_or(true);
  bool pieces = f.boolean("with_pieces").value_or(false);
  f.boolean("add_special");  // Qwen3 adds no BOS, so there is nothing to add
  auto ids = p.encode(*content, special);
  if (pieces && ids.size() > limits::kMaxPieces) {
    throw invalid_request("'with_pieces' answers at most " + std::to_string(limits::kMaxPieces) +
                              " tokens; this content has " + std::to_string(ids.size()),
                          "with_pieces", "limit_exceeded");
  }
  std::string out = "{\"tokens\":[";
  out.reserve(out.size() + ids.size() * (pieces ? 24 : 7) + 2);
  std::vector<std::int32_t> one(1);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    if (!pieces) {
      out += std::to_string(ids[i]);
      continue;
    }
    one[0] = ids[i];
    out += "{\"id\":" + std::to_string(ids[i]) + ",\"piece\":";
    append_piece(out, p.decode(one));
    out += '}';
  }
  out += "]}";
  return out;
}

std::vector<std::int32_t> detokenize_ids(const Json& body) {
  JsonFields f(body, "");
  const Json* tokens = f.array("tokens");
  if (!tokens) throw invalid_request("'tokens' is required", "tokens", "missing");
  if (tokens->size() > limits::kMaxDetokenizeIds) {
    throw limit_exceeded("tokens", "holds", tokens->size(), "ids", limits::kMaxDetokenizeIds);
  }
  std::vector<std::int32_t> ids;
  ids.reserve(tokens->size());
  for (const auto& t : *tokens) {
    if (!t.is_number_integer() || t.get<std::int64_t>() < 0 || t.get<std::int64_t>() > INT32_MAX) {
      throw invalid_request("'tokens' must be an array of token ids", "tokens", "invalid_type");
    }
    ids.push_back(static_cast<std::int32_t>(t.get<std::int64_t>()));
  }
  return ids;
}

}  // namespace

void add_text_routes(ServerState& st) {
  st.http.Post("/tokenize", endpoint(st, "tokenize", false, [&st](const auto& req, auto& res) {
                 Json body = request_json(st, req);
                 res.status = 200;
                 res.set_content(tokenize_reply(st.slots().pipeline(), body), "application/json");
               }));

  st.http.Post("/detokenize", endpoint(st, "detokenize", false, [&st](const auto& req, auto& res) {
                 Json body = request_json(st, req);
                 std::vector<std::int32_t> ids = detokenize_ids(body);
                 const Pipeline& p = st.slots().pipeline();
                 std::string text;
                 try {
                   text = p.decode(ids);
                 } catch (const std::exception& e) {
                   throw invalid_request(std::string("cannot detokenize: ") + e.what(), "tokens");
                 }
                 send_json(res, {{"content", text}});
               }));

  st.http.Post(
      "/apply-template", endpoint(st, "apply-template", false, [&st](const auto& req, auto& res) {
        Json body = request_json(st, req);
        const Pipeline& p = st.slots().pipeline();
        ChatRequest r = parse_chat_request(body, st.n_ctx, st.opts.images);
        JsonFields f(body, "");
        bool gen_prompt = f.boolean("add_generation_prompt").value_or(true);
        std::string prompt = p.apply_chat_template(r.history, gen_prompt, r.config.enable_thinking);
        send_json(res, {{"prompt", prompt}});
      }));
}

}  // namespace qwen3::server
