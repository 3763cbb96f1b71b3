// What: the one table of the HTTP statuses the server writes: the reason phrase of the status
// line and, for the error statuses, the OpenAI error type and our error code.
// Why: the reason phrases (http_message.cpp) and the error types and codes (api_error.cpp)
// were three switches over the same statuses.
#pragma once

namespace qwen3::server {

struct HttpStatusInfo {
  int status;
  const char* reason;      // the status line's reason phrase
  const char* error_type;  // OpenAI error type; nullptr: the generic one for the class
  const char* error_code;  // our error code; nullptr: the generic one for the class
};

// The row of `status`, or nullptr when the table has none.
const HttpStatusInfo* find_http_status(int status);

}  // namespace qwen3::server
