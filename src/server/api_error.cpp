#include "server/api_error.h"

#include "server/http_status.h"

namespace qwen3::server {

namespace {

// The OpenAI error type and our code for each HTTP status: one table for every error the
// server writes, whether a route or the HTTP layer raises it.
const char* type_for(int status) {
  const HttpStatusInfo* info = find_http_status(status);
  if (info && info->error_type) return info->error_type;
  return status >= 500 ? "server_error" : "invalid_request_error";
}

const char* code_for(int status) {
  const HttpStatusInfo* info = find_http_status(status);
  if (info && info->error_code) return info->error_code;
  return status >= 500 ? "internal_error" : "bad_request";
}

}  // namespace

ApiError http_error(int status, const std::string& message) {
  return ApiError(status, type_for(status), code_for(status), message);
}

nlohmann::ordered_json ApiError::to_json() const {
  nlohmann::ordered_json err = {{"message", what()}, {"type", type_}};
  err["param"] = param_.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(param_);
  err["code"] = code_;
  return {{"error", err}};
}

ApiError invalid_request(const std::string& message, const std::string& param,
                         const std::string& code) {
  return ApiError(400, "invalid_request_error", code, message, param);
}

ApiError limit_exceeded(const std::string& param, const char* verb, std::size_t count,
                        const char* unit, std::size_t limit) {
  return invalid_request("'" + param + "' " + verb + " " + std::to_string(count) + " " + unit +
                             ", more than the limit of " + std::to_string(limit),
                         param, "limit_exceeded");
}

ApiError not_found(const std::string& message) {
  return http_error(404, message);
}

ApiError model_not_found(const std::string& message) {
  return ApiError(404, "invalid_request_error", "model_not_found", message, "model");
}

ApiError unauthorized(const std::string& message) {
  return http_error(401, message);
}

ApiError payload_too_large(std::size_t limit) {
  return http_error(413,
                    "request body is larger than the limit of " + std::to_string(limit) + " bytes");
}

ApiError unavailable(const std::string& message) {
  return http_error(503, message);
}

ApiError context_exceeded(const std::string& message) {
  return ApiError(400, "invalid_request_error", "context_length_exceeded", message, "messages");
}

ApiError internal_error(const std::string& message) {
  return http_error(500, message);
}

ApiError from_exception(const std::exception& e) {
  if (auto* api = dynamic_cast<const ApiError*>(&e)) return *api;
  if (dynamic_cast<const std::length_error*>(&e)) return context_exceeded(e.what());
  if (dynamic_cast<const std::invalid_argument*>(&e) ||
      dynamic_cast<const std::out_of_range*>(&e) || dynamic_cast<const std::domain_error*>(&e)) {
    return invalid_request(e.what());
  }
  return internal_error(e.what());
}

}  // namespace qwen3::server
