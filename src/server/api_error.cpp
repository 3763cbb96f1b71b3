#include "server/api_error.h"

namespace qwen3::server {

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
  return ApiError(404, "not_found_error", "not_found", message);
}

ApiError model_not_found(const std::string& message) {
  return ApiError(404, "invalid_request_error", "model_not_found", message, "model");
}

ApiError unauthorized(const std::string& message) {
  return ApiError(401, "authentication_error", "invalid_api_key", message);
}

ApiError payload_too_large(std::size_t limit) {
  return ApiError(413, "invalid_request_error", "request_too_large",
                  "request body is larger than the limit of " + std::to_string(limit) + " bytes");
}

ApiError unavailable(const std::string& message) {
  return ApiError(503, "unavailable_error", "unavailable", message);
}

ApiError context_exceeded(const std::string& message) {
  return ApiError(400, "invalid_request_error", "context_length_exceeded", message, "messages");
}

ApiError internal_error(const std::string& message) {
  return ApiError(500, "server_error", "internal_error", message);
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
