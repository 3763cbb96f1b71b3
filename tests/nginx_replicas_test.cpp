// End to end: Debian's nginx with deploy/nginx/qwen3.conf (ports rewritten) in front of two
// `qwen3 serve` replicas of a tiny random model, all on loopback. Shows
// - affinity: every request of one conversation (X-Session-Id, or the body's "user" field)
//   lands on the same replica, conversations spread over both, and each replica's
//   /metrics counts prefix-cache hits;
// - failover: one replica is killed while clients stream; no request needs more than one
//   retry, and the dead replica's conversations move to the other one.
// Every child process is killed when the test ends, fails or dies (a guard object, and
// PR_SET_PDEATHSIG in the children). Skipped with a message when nginx is not installed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace qwen3 {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

std::string find_nginx() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Child processes that die with the test: SIGTERM then SIGKILL in the destructor, and
// the kernel sends SIGTERM to each child if this process dies first.
class Children {
 public:
  ~Children() {
    for (pid_t p : pids_) ::kill(p, SIGTERM);
    for (pid_t p : pids_) {
      int status = 0;
      for (int i = 0; i < 100 && ::waitpid(p, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(20ms);
      if (::waitpid(p, &status, WNOHANG) == 0) {
        ::kill(p, SIGKILL);
        ::waitpid(p, &status, 0);
      }
    }
  }
  pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(1);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pids_.push_back(pid);
    return pid;
  }
  void kill_now(pid_t pid) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
  }

 private:
  std::vector<pid_t> pids_;
};

bool wait_health(int port, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(1, 0);
    auto r = c.Get("/health");
    if (r && r->status == 200) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

double metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return -1;
}

const char* kSystem =
    "You are the help desk of a bakery. Answer in one short sentence. Rule 1: be kind. "
    "Rule 2: be exact. Rule 3: never invent prices. Rule 4: mention opening hours.";

json chat(const std::string& turn, bool stream, const std::string& user = "", int tokens = 12) {
  json b = {{"model", "tiny"},
            {"messages", json::array({{{"role", "system"}, {"content", kSystem}},
                                      {{"role", "user"}, {"content", turn}}})},
            {"max_tokens", tokens},
            {"temperature", 0},
            {"ignore_eos", true},
            {"stream", stream}};
  if (!user.empty()) b["user"] = user;
  return b;
}

struct Reply {
  bool ok = false;
  std::string upstream;  // the replica that answered last
};

Reply post(int port, const json& body, const std::string& session) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30, 0);
  httplib::Headers h;
  if (!session.empty()) h.emplace("X-Session-Id", session);
  auto r = c.Post("/v1/chat/completions", h, body.dump(), "application/json");
  Reply out;
  if (!r || r->status != 200) return out;
  const bool stream = body.value("stream", false);
  out.ok = stream ? r->body.find("data: [DONE]") != std::string::npos
                  : r->body.find("\"choices\"") != std::string::npos;
  std::string addr = r->get_header_value("X-Upstream");
  const auto comma = addr.rfind(", ");
  out.upstream = comma == std::string::npos ? addr : addr.substr(comma + 2);
  return out;
}

TEST(NginxReplicas, AffinityPrefixHitsAndFailover) {
  const std::string nginx = find_nginx();
  if (nginx.empty()) GTEST_SKIP() << "nginx is not installed (apt-get install nginx): skipped";
  const fs::path dir =
      fs::temp_directory_path() / ("qwen3_nginx_test_" + std::to_string(::getpid()));
  fs::create_directories(dir / "tmp");
  const std::string model = (dir / "tiny.gguf").string();
  ASSERT_EQ(
      std::system((std::string(QWEN3_BIN) + " gen-model --preset tiny --type q4_0 --tokenizer " +
                   QWEN3_TOKENIZER_DIR + "/tokenizer.json --seed 4 -o " + model + " > /dev/null")
                      .c_str()),
      0);
  Children kids;
  const int port_a = free_port(), port_b = free_port(), port_lb = free_port();
  std::map<int, pid_t> replica;
  for (int port : {port_a, port_b})
    replica[port] = kids.spawn({QWEN3_BIN, "serve", "-m", model, "--port", std::to_string(port),
                                "--parallel", "2", "-c", "512", "-t", "1", "--alias", "tiny"},
                               (dir / ("replica_" + std::to_string(port) + ".log")).string());

  // The deployed configuration, with this test's ports.
  std::ifstream in(std::string(QWEN3_SOURCE_DIR) + "/deploy/nginx/qwen3.conf");
  std::stringstream conf;
  conf << in.rdbuf();
  std::string site = conf.str();
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = site.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    site.replace(at, from.size(), to);
  };
  replace("127.0.0.1:8081", "127.0.0.1:" + std::to_string(port_a));
  replace("127.0.0.1:8082", "127.0.0.1:" + std::to_string(port_b));
  replace("listen 8080;", "listen 127.0.0.1:" + std::to_string(port_lb) + ";");
  std::ofstream(dir / "qwen3.conf") << site;
  const std::string d = dir.string();
  std::ofstream(dir / "nginx.conf")
      << (::geteuid() == 0 ? "user root;\n" : "") << "daemon off;\nworker_processes 1;\npid " << d
      << "/nginx.pid;\nerror_log " << d << "/error.log info;\nevents { worker_connections 256; }\n"
      << "http {\n  access_log " << d << "/access.log;\n  client_body_temp_path " << d
      << "/tmp/body;\n  proxy_temp_path " << d << "/tmp/proxy;\n  fastcgi_temp_path " << d
      << "/tmp/fcgi;\n  uwsgi_temp_path " << d << "/tmp/uwsgi;\n  scgi_temp_path " << d
      << "/tmp/scgi;\n  include " << d << "/qwen3.conf;\n}\n";
  kids.spawn({nginx, "-e", d + "/error.log", "-p", d, "-c", d + "/nginx.conf"}, d + "/nginx.out");

  ASSERT_TRUE(wait_health(port_a, 60s)) << "replica A did not come up (see " << d << ")";
  ASSERT_TRUE(wait_health(port_b, 60s)) << "replica B did not come up";
  ASSERT_TRUE(wait_health(port_lb, 10s)) << "nginx did not come up (see " << d << "/error.log)";

  // Affinity: two turns of 12 conversations by X-Session-Id, then 4 users by "user" only.
  std::map<std::string, std::set<std::string>> where;  // conversation -> replicas
  for (int turn = 0; turn < 2; ++turn) {
    for (int s = 0; s < 12; ++s) {
      const std::string id = "session-" + std::to_string(s);
      Reply r = post(port_lb,
                     chat("Conversation " + std::to_string(s) + " turn " + std::to_string(turn),
                          turn % 2 == 1),
                     id);
      ASSERT_TRUE(r.ok) << id;
      where[id].insert(r.upstream);
    }
  }
  // Without the header: three turns per user, so a random pick would split them.
  for (int turn = 0; turn < 3; ++turn) {
    for (int u = 0; u < 4; ++u) {
      const std::string user = "user-" + std::to_string(u);
      Reply r = post(port_lb, chat("Question from " + user, false, user), "");
      ASSERT_TRUE(r.ok) << user;
      where[user].insert(r.upstream);
    }
  }
  std::map<std::string, std::vector<std::string>> by_replica;
  for (const auto& [conv, reps] : where) {
    EXPECT_EQ(reps.size(), 1u) << conv << " was served by more than one replica";
    by_replica[*reps.begin()].push_back(conv);
  }
  ASSERT_EQ(by_replica.size(), 2u) << "all conversations went to one replica";
  for (const auto& [rep, convs] : by_replica) ASSERT_GE(convs.size(), 2u) << rep;
  for (int port : {port_a, port_b}) {
    httplib::Client c("127.0.0.1", port);
    const std::string m = c.Get("/metrics")->body;
    const double hits = metric(m, "qwen3_prefix_cache_hit_tokens_total");
    std::printf("  replica :%d: %zu conversations, %.0f prefix-cache hit tokens\n", port,
                by_replica["127.0.0.1:" + std::to_string(port)].size(), hits);
    EXPECT_GE(hits, 48) << "replica " << port << " shows no prefix-cache hits";
  }

  // Failover: clients keep asking (streaming and not) on conversations of both replicas;
  // replica A dies in the middle. A request may fail once and is retried; never twice.
  const std::string a_addr = "127.0.0.1:" + std::to_string(port_a);
  const std::string b_addr = "127.0.0.1:" + std::to_string(port_b);
  std::atomic<bool> stop{false}, killed{false};
  std::atomic<int> requests{0}, retried{0}, failed{0}, a_convs_on_b_after_kill{0};
  std::mutex mu;
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    const std::string conv = by_replica[i % 2 ? b_addr : a_addr][static_cast<std::size_t>(i / 2)];
    const bool on_a = i % 2 == 0;
    clients.emplace_back([&, conv, on_a, i] {
      for (int n = 0; !stop; ++n) {
        const bool after_kill = killed;
        const json body = conv.rfind("user-", 0) == 0
                              ? chat("More " + std::to_string(n), n % 2 == 0, conv, 64)
                              : chat("More " + std::to_string(n), (n + i) % 2 == 0, "", 64);
        const std::string session = conv.rfind("user-", 0) == 0 ? "" : conv;
        Reply r = post(port_lb, body, session);
        if (!r.ok) {
          ++retried;
          r = post(port_lb, body, session);
          if (!r.ok) ++failed;
        }
        ++requests;
        if (r.ok && on_a && after_kill && r.upstream == b_addr) ++a_convs_on_b_after_kill;
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  kids.kill_now(replica[port_a]);
  killed = true;
  std::this_thread::sleep_for(2500ms);
  stop = true;
  for (auto& t : clients) t.join();
  std::printf("  failover: %d requests, %d retried once, %d failed twice, %d of A's moved to B\n",
              requests.load(), retried.load(), failed.load(), a_convs_on_b_after_kill.load());
  EXPECT_EQ(failed.load(), 0) << "a request failed even when retried";
  EXPECT_LE(retried.load(), 2) << "more than the requests in flight on the dead replica failed";
  EXPECT_GT(a_convs_on_b_after_kill.load(), 0) << "the dead replica's conversations did not move";
  EXPECT_TRUE(wait_health(port_lb, 5s));  // nginx still answers /health through B
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qwen3
