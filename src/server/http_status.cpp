// The table of HTTP statuses (see http_status.h).
#include "server/http_status.h"

namespace qwen3::server {
namespace {

constexpr HttpStatusInfo kStatuses[] = {
    {100, "Continue", nullptr, nullptr},
    {200, "OK", nullptr, nullptr},
    {204, "No Content", nullptr, nullptr},
    {304, "Not Modified", nullptr, nullptr},
    {400, "Bad Request", nullptr, "bad_request"},
    {401, "Unauthorized", "authentication_error", "invalid_api_key"},
    {403, "Forbidden", "permission_error", "forbidden"},
    {404, "Not Found", "not_found_error", "not_found"},
    {405, "Method Not Allowed", nullptr, "method_not_allowed"},
    {408, "Request Timeout", nullptr, "request_timeout"},
    {411, "Length Required", nullptr, "length_required"},
    {413, "Payload Too Large", nullptr, "request_too_large"},
    {415, "Unsupported Media Type", nullptr, "unsupported_media_type"},
    {421, "Misdirected Request", nullptr, nullptr},
    {429, "Too Many Requests", nullptr, nullptr},
    {431, "Request Header Fields Too Large", nullptr, "request_header_too_large"},
    {500, "Internal Server Error", nullptr, nullptr},
    {501, "Not Implemented", nullptr, "not_implemented"},
    {503, "Service Unavailable", "unavailable_error", "unavailable"},
    {505, "HTTP Version Not Supported", nullptr, nullptr},
};

}  // namespace

const HttpStatusInfo* find_http_status(int status) {
  for (const HttpStatusInfo& s : kStatuses)
    if (s.status == status) return &s;
  return nullptr;
}

}  // namespace qwen3::server
