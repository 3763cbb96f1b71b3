#include "server/client_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace qwen3::server {
namespace {

thread_local int tl_client_fd = -1;

// poll() one socket for `events` for up to `ms` milliseconds, retrying on EINTR.
int poll_fd(int fd, short events, int ms, short* revents = nullptr) {
  pollfd p{fd, events, 0};
  int r;
  do {
    r = ::poll(&p, 1, ms);
  } while (r < 0 && errno == EINTR);
  if (revents) *revents = p.revents;
  return r;
}

bool peer_closed(int fd) {
  short rev = 0;
  int r = poll_fd(fd, POLLIN | POLLRDHUP, 0, &rev);
  if (r < 0) return true;
  if (r == 0) return false;
  if (rev & (POLLERR | POLLHUP | POLLNVAL | POLLRDHUP)) return true;
  if (rev & POLLIN) {
    // Readable with nothing to read = orderly shutdown; data = a pipelined request.
    char c;
    ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }
  return false;
}

void address_of(const sockaddr_storage& addr, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
  }
  ip = buf;
}

int to_ms(time_t sec, time_t usec) {
  return static_cast<int>(sec * 1000 + usec / 1000);
}

// One client connection: buffered reads (httplib reads headers byte by byte), writes
// that never raise SIGPIPE, and timeouts as httplib's SocketStream has them.
class ClientStream : public httplib::Stream {
 public:
  ClientStream(int fd, int read_ms, int write_ms)
      : fd_(fd), read_ms_(read_ms), write_ms_(write_ms) {}

  bool has_buffered() const { return pos_ < len_; }
  bool is_readable() const override { return pos_ < len_ || poll_fd(fd_, POLLIN, read_ms_) > 0; }
  bool is_writable() const override {
    return poll_fd(fd_, POLLOUT, write_ms_) > 0 && !peer_closed(fd_);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ < len_) return take(ptr, size);
    if (!is_readable()) return -1;
    if (size >= sizeof(buf_)) return recv_retry(ptr, size);
    ssize_t n = recv_retry(buf_, sizeof(buf_));
    if (n <= 0) return n;
    pos_ = 0;
    len_ = static_cast<size_t>(n);
    return take(ptr, size);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (poll_fd(fd_, POLLOUT, write_ms_) <= 0) return -1;
    ssize_t n;
    do {
      n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      address_of(addr, ip, port);
    }
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      address_of(addr, ip, port);
    }
  }
  socket_t socket() const override { return fd_; }

 private:
  ssize_t take(char* ptr, size_t size) {
    size_t n = std::min(size, len_ - pos_);
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t recv_retry(char* ptr, size_t size) {
    ssize_t n;
    do {
      n = ::recv(fd_, ptr, size, 0);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  int fd_;
  int read_ms_;
  int write_ms_;
  char buf_[4096];
  size_t pos_ = 0;
  size_t len_ = 0;
};

}  // namespace

bool HttpServer::process_and_close_socket(socket_t sock) {
  tl_client_fd = sock;
  ClientStream strm(sock, to_ms(read_timeout_sec_, read_timeout_usec_),
                    to_ms(write_timeout_sec_, write_timeout_usec_));
  bool ret = false;
  size_t count = keep_alive_max_count_;
  const auto idle_limit = std::chrono::seconds(keep_alive_timeout_sec_);
  while (svr_sock_ != INVALID_SOCKET && count > 0) {
    // Wait for the next request in short steps so a server stop is noticed.
    const auto start = std::chrono::steady_clock::now();
    bool ready = strm.has_buffered();
    while (!ready && svr_sock_ != INVALID_SOCKET &&
           std::chrono::steady_clock::now() - start < idle_limit) {
      ready = poll_fd(sock, POLLIN, 50) > 0;
    }
    if (!ready || svr_sock_ == INVALID_SOCKET) break;
    bool close_connection = count == 1;
    bool connection_closed = false;
    ret = process_request(strm, close_connection, connection_closed, nullptr);
    if (!ret || connection_closed) break;
    --count;
  }
  tl_client_fd = -1;
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ret;
}

bool client_gone() {
  return tl_client_fd >= 0 && peer_closed(tl_client_fd);
}

}  // namespace qwen3::server
