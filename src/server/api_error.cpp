#include "server/api_error.h"

namespace qwen3::server {

namespace {

// The OpenAI error type and our code for each HTTP status: one table for every error the
// server writes, whether a route or the HTTP layer raises it.
const char* type_for(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 503:
      return "unavailable_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

const char* code_for(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "invalid_api_key";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "request_timeout";
    case 411:
      return "length_required";
    case 413:
      return "request_too_large";
    case 415:
      return "unsupported_media_type";
    case 431:
      return "request_header_too_large";
    case 501:
      return "not_implemented";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal_error" : "bad_request";
  }
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
