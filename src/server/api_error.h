// OpenAI-style API errors: {"error": {"message", "type", "code", "param"}} with an HTTP
// status. Request parsing throws ApiError; the routes turn it into the response.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace qwen3::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, std::string code, const std::string& message,
           std::string param = {})
      : std::runtime_error(message),
        status_(status),
        type_(std::move(type)),
        code_(std::move(code)),
        param_(std::move(param)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& code() const { return code_; }
  const std::string& param() const { return param_; }

  nlohmann::ordered_json to_json() const;

 private:
  int status_;
  std::string type_;
  std::string code_;
  std::string param_;
};

// An error of HTTP `status` with the OpenAI type and code that status always has
// (401 authentication_error/invalid_api_key, 405 method_not_allowed, ...).
ApiError http_error(int status, const std::string& message);
// 400 invalid_request_error about the request field `param`.
ApiError invalid_request(const std::string& message, const std::string& param = {},
                         const std::string& code = "invalid_value");
// 400 limit_exceeded about `param`: "'<param>' <verb> <count> <unit>, more than the limit of
// <limit>" (e.g. "'tokens' holds 9000 ids, more than the limit of 8192").
ApiError limit_exceeded(const std::string& param, const char* verb, std::size_t count,
                        const char* unit, std::size_t limit);
ApiError not_found(const std::string& message);
// 404 model_not_found: the request's "model" is not the one this server serves.
ApiError model_not_found(const std::string& message);
ApiError unauthorized(const std::string& message);
ApiError payload_too_large(std::size_t limit);
ApiError unavailable(const std::string& message);  // 503, e.g. loading or queue full
ApiError context_exceeded(const std::string& message);
ApiError internal_error(const std::string& message);

// Maps an exception escaping the engine to the API error a client should see: bad
// arguments and prompts that do not fit are the client's fault (400), the rest is 500.
ApiError from_exception(const std::exception& e);

}  // namespace qwen3::server
