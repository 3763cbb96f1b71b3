// POST /tokenize, /detokenize, /apply-template (llama.cpp's request and reply shapes).
#include "server/requests.h"
#include "server/responses.h"
#include "server/server_state.h"

namespace qwen3::server {
namespace {

// A token's text as JSON: the string when it is whole UTF-8, else its bytes (a token
// can hold part of a multi-byte character).
OJson piece_json(const std::string& piece) {
  try {
    return OJson::parse(OJson(piece).dump());
  } catch (const std::exception&) {
    OJson bytes = OJson::array();
    for (unsigned char c : piece) bytes.push_back(c);
    return bytes;
  }
}

}  // namespace

void add_text_routes(ServerState& st) {
  st.http.Post("/tokenize", endpoint(st, "tokenize", false, [&st](const auto& req, auto& res) {
                 Json body = request_json(st, req);
                 JsonFields f(body, "");
                 auto content = f.string("content");
                 if (!content) throw invalid_request("'content' is required", "content", "missing");
                 bool special = f.boolean("parse_special").value_or(true);
                 bool pieces = f.boolean("with_pieces").value_or(false);
                 f.boolean("add_special");  // Qwen3 adds no BOS, so there is nothing to add
                 const Pipeline& p = st.slots().pipeline();
                 auto ids = p.encode(*content, special);
                 OJson tokens = OJson::array();
                 for (auto id : ids) {
                   if (pieces) {
                     tokens.push_back({{"id", id}, {"piece", piece_json(p.decode({id}))}});
                   } else {
                     tokens.push_back(id);
                   }
                 }
                 send_json(res, {{"tokens", tokens}});
               }));

  st.http.Post("/detokenize", endpoint(st, "detokenize", false, [&st](const auto& req, auto& res) {
                 Json body = request_json(st, req);
                 JsonFields f(body, "");
                 const Json* tokens = f.array("tokens");
                 if (!tokens) throw invalid_request("'tokens' is required", "tokens", "missing");
                 std::vector<std::int32_t> ids;
                 for (const auto& t : *tokens) {
                   if (!t.is_number_integer() || t.get<std::int64_t>() < 0 ||
                       t.get<std::int64_t>() > INT32_MAX) {
                     throw invalid_request("'tokens' must be an array of token ids", "tokens",
                                           "invalid_type");
                   }
                   ids.push_back(static_cast<std::int32_t>(t.get<std::int64_t>()));
                 }
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
        ChatRequest r = parse_chat_request(body, st.n_ctx);
        JsonFields f(body, "");
        bool gen_prompt = f.boolean("add_generation_prompt").value_or(true);
        std::string prompt = p.apply_chat_template(r.history, gen_prompt, r.config.enable_thinking);
        send_json(res, {{"prompt", prompt}});
      }));
}

}  // namespace qwen3::server
