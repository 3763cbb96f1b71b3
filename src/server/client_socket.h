// httplib::Server with our own per-connection loop, so a handler can tell whether its
// client is still there: cpp-httplib 0.11 gives handlers no access to the socket, and a
// streaming generation must stop within a token when its client disconnects.
#pragma once

#include <httplib.h>

namespace qwen3::server {

class HttpServer : public httplib::Server {
 private:
  // Replaces httplib's private loop (keep-alive, timeouts) with the same logic over
  // ClientStream, recording the socket for client_gone() on the handling thread.
  bool process_and_close_socket(socket_t sock) override;
};

// True when the client of the request being handled on this thread has closed or reset
// its connection. Never blocks. False outside a request.
bool client_gone();

}  // namespace qwen3::server
