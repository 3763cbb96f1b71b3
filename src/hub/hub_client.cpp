// The Hub client (see hub_client.h): cpp-httplib for HTTP(S), OpenSSL for the checksums.
#include "hub/hub_client.h"

#include <fcntl.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace qwen3::hub {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kMinChunk = 16ull << 20;  // ranges below this are not worth a connection
constexpr int kMaxRedirects = 5;
constexpr size_t kMaxListingBytes = 16u << 20;

struct Url {
  std::string origin;  // scheme://host[:port]
  std::string target;  // /path?query
};

Url split_url(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) throw std::runtime_error("bad URL '" + url + "'");
  const size_t slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

// Percent-encodes one path segment (RFC 3986 unreserved characters stay).
std::string encode_segment(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}
std::string encode_path(const std::string& path) {
  std::string out;
  size_t start = 0;
  for (;;) {
    const size_t slash = path.find('/', start);
    out += encode_segment(path.substr(start, slash - start));
    if (slash == std::string::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

std::unique_ptr<httplib::Client> make_client(const std::string& origin, int timeout) {
  auto cli = std::make_unique<httplib::Client>(origin);
  if (!cli->is_valid()) throw std::runtime_error("cannot connect to '" + origin + "'");
  cli->set_follow_location(false);
  cli->set_connection_timeout(timeout, 0);
  cli->set_read_timeout(timeout, 0);
  cli->set_write_timeout(timeout, 0);
  return cli;
}

std::string strip_etag(std::string e) {
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return e;
}

bool is_hex(const std::string& s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

// SHA-256 of the file (LFS etags), or the git blob SHA-1 ("blob SIZE\0" + contents) for
// files stored in git itself.
std::string file_digest(const std::string& path, bool git_sha1) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), git_sha1 ? EVP_sha1() : EVP_sha256(), nullptr);
  if (git_sha1) {
    const std::string head = "blob " + std::to_string(fs::file_size(path)) + std::string(1, '\0');
    EVP_DigestUpdate(ctx.get(), head.data(), head.size());
  }
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  std::string hex;
  char b[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, "%02x", md[i]);
    hex += b;
  }
  return hex;
}

[[noreturn]] void http_failure(int status, const std::string& what, const std::string& repo) {
  if (status == 401 || status == 403)
    throw std::runtime_error(what + ": access denied (HTTP " + std::to_string(status) + "); " +
                             repo +
                             " may be gated or private: accept its terms on the Hub and "
                             "set HF_TOKEN to a token that can read it");
  if (status == 404)
    throw std::runtime_error(what +
                             ": not found (HTTP 404); check the repository name, file "
                             "and revision");
  throw std::runtime_error(what + ": HTTP " + std::to_string(status));
}

bool retryable(int status) {
  return status == 429 || status == 408 || status >= 500;
}

// Back-off before attempt `attempt` (1-based): Retry-After if the server gave one (at most
// 30 s), else 0.25 s doubling up to 8 s.
void back_off(int attempt, const std::string& retry_after) {
  double s = std::min(8.0, 0.25 * static_cast<double>(1 << std::min(attempt - 1, 6)));
  if (!retry_after.empty()) {
    char* end = nullptr;
    const double v = std::strtod(retry_after.c_str(), &end);
    if (end != retry_after.c_str() && v >= 0) s = std::min(30.0, v);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(s * 1000)));
}

// One byte range of the download and how much of it is on disk.
struct Part {
  uint64_t begin = 0, end = 0;  // [begin, end)
  std::atomic<uint64_t> done{0};
};

// The sidecar that lets a download resume: one "begin end done" line per range.
void save_parts(const std::string& path, const std::vector<std::unique_ptr<Part>>& parts) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& p : parts) out << p->begin << ' ' << p->end << ' ' << p->done.load() << '\n';
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
}

bool load_parts(const std::string& path, uint64_t total,
                std::vector<std::unique_ptr<Part>>& parts) {
  std::ifstream in(path);
  if (!in) return false;
  std::vector<std::unique_ptr<Part>> loaded;
  uint64_t b, e, d, expect = 0;
  while (in >> b >> e >> d) {
    if (b != expect || e <= b || e > total || d > e - b) return false;
    auto p = std::make_unique<Part>();
    p->begin = b;
    p->end = e;
    p->done = d;
    loaded.push_back(std::move(p));
    expect = e;
  }
  if (expect != total || loaded.empty()) return false;
  parts = std::move(loaded);
  return true;
}

struct Target {
  std::string url;  // where the bytes come from (after redirects)
  bool same_origin = true;
  uint64_t size = 0;
  std::string etag;
  std::string commit;
};

}  // namespace

HubOptions HubOptions::from_env() {
  HubOptions o;
  if (const char* e = std::getenv("HF_ENDPOINT"); e && *e) {
    o.endpoint = e;
    while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  }
  if (const char* t = std::getenv("HF_TOKEN"); t && *t) o.token = t;
  if (const char* off = std::getenv("HF_HUB_OFFLINE"); off && *off && std::string(off) != "0")
    o.offline = true;
  return o;
}

HubClient::HubClient(HubOptions opts, HubCache cache)
    : opts_(std::move(opts)), cache_(std::move(cache)) {}

RepoListing HubClient::list(const std::string& repo, const std::string& revision) const {
  if (opts_.offline) {
    RepoListing l;
    const auto commit = cache_.commit_of(repo, revision);
    if (!commit)
      throw std::runtime_error(repo + " is not in the cache (" + cache_.root() +
                               ") and HF_HUB_OFFLINE is set");
    l.commit = *commit;
    for (auto& f : cache_.snapshot_files(repo, revision)) l.files.push_back({f, 0});
    return l;
  }
  const Url base = split_url(opts_.endpoint);
  auto cli = make_client(base.origin, opts_.timeout_seconds);
  httplib::Headers h;
  if (!opts_.token.empty()) h.emplace("Authorization", "Bearer " + opts_.token);
  std::string target = (base.target == "/" ? "" : base.target) + "/api/models/" + repo +
                       "/revision/" + encode_segment(revision) + "?blobs=true";
  const std::string what = "listing " + repo + "@" + revision;
  for (int attempt = 1;; ++attempt) {
    std::string body;
    int status = 0;
    std::string retry_after;
    auto res = cli->Get(
        target, h,
        [&](const httplib::Response& r) {
          status = r.status;
          retry_after = r.get_header_value("Retry-After");
          return true;
        },
        [&](const char* data, size_t n) {
          if (body.size() + n > kMaxListingBytes) return false;
          body.append(data, n);
          return true;
        });
    if (res && status == 200) {
      RepoListing l;
      try {
        const auto j = nlohmann::json::parse(body);
        l.commit = j.at("sha").get<std::string>();
        for (const auto& s : j.at("siblings")) {
          RemoteFile f;
          f.path = s.at("rfilename").get<std::string>();
          if (s.contains("size") && s["size"].is_number_unsigned())
            f.size = s["size"].get<uint64_t>();
          l.files.push_back(std::move(f));
        }
      } catch (const std::exception& e) {
        throw std::runtime_error(what + ": unexpected reply from " + opts_.endpoint + ": " +
                                 e.what());
      }
      if (!is_hex(l.commit, 40)) throw std::runtime_error(what + ": bad commit id in the reply");
      cache_.set_ref(repo, revision, l.commit);
      return l;
    }
    const bool net_error = !res && status == 0;
    if ((net_error || retryable(status)) && attempt < opts_.max_attempts) {
      back_off(attempt, retry_after);
      continue;
    }
    if (net_error)
      throw std::runtime_error(what + ": cannot reach " + opts_.endpoint + " (" +
                               httplib::to_string(res.error()) +
                               "); set HF_HUB_OFFLINE=1 to use the cache only");
    http_failure(status, what, repo);
  }
}

std::string HubClient::resolve(const ModelRef& ref) const {
  const RepoListing l = list(ref.repo, ref.revision);
  std::vector<std::string> names;
  for (const auto& f : l.files) names.push_back(f.path);
  const std::string file = pick_gguf_file(names, ref.quant, ref.repo);
  return fetch(ref.repo, ref.revision, file);
}

std::string HubClient::fetch(const std::string& repo, const std::string& revision,
                             const std::string& file) const {
  if (opts_.offline) {
    if (auto p = cache_.find(repo, revision, file)) return *p;
    throw std::runtime_error(repo + "/" + file + " is not in the cache (" + cache_.root() +
                             ") and HF_HUB_OFFLINE is set");
  }
  const Url base = split_url(opts_.endpoint);
  const std::string what = "downloading " + repo + "/" + file;
  httplib::Headers auth;
  if (!opts_.token.empty()) auth.emplace("Authorization", "Bearer " + opts_.token);

  // HEAD on resolve/ without following redirects: the Hub puts the commit, the file's etag
  // (X-Linked-Etag: SHA-256 for LFS files) and size on this first reply; the bytes come from
  // the Location it redirects to. Relative redirects (renamed repositories) are followed.
  Target t;
  std::string url = base.origin + (base.target == "/" ? "" : base.target) + "/" + repo +
                    "/resolve/" + encode_segment(revision) + "/" + encode_path(file);
  for (int hop = 0, attempt = 1;;) {
    const Url u = split_url(url);
    auto cli = make_client(u.origin, opts_.timeout_seconds);
    httplib::Headers h = auth;
    h.emplace("Accept-Encoding", "identity");
    auto res = cli->Head(u.target.c_str(), h);
    if (!res || retryable(res->status)) {
      if (attempt++ < opts_.max_attempts) {
        back_off(attempt - 1, res ? res->get_header_value("Retry-After") : "");
        continue;
      }
      if (!res)
        throw std::runtime_error(what + ": cannot reach " + u.origin + " (" +
                                 httplib::to_string(res.error()) + ")");
      http_failure(res->status, what, repo);
    }
    const auto& r = *res;
    if (t.commit.empty()) t.commit = r.get_header_value("X-Repo-Commit");
    if (t.etag.empty()) t.etag = strip_etag(r.get_header_value("X-Linked-Etag"));
    if (t.size == 0) {
      const std::string ls = r.get_header_value("X-Linked-Size");
      if (!ls.empty()) t.size = std::strtoull(ls.c_str(), nullptr, 10);
    }
    if (r.status >= 300 && r.status < 400) {
      const std::string loc = r.get_header_value("Location");
      if (loc.empty() || ++hop > kMaxRedirects)
        throw std::runtime_error(what + ": bad redirect from " + u.origin);
      if (loc[0] == '/') {
        url = u.origin + loc;
        continue;
      }
      // An absolute redirect (the CDN): the bytes come from there, without our token.
      t.url = loc;
      t.same_origin = split_url(loc).origin == base.origin;
      break;
    }
    if (r.status != 200) http_failure(r.status, what, repo);
    if (t.etag.empty()) t.etag = strip_etag(r.get_header_value("ETag"));
    if (t.size == 0)
      t.size = std::strtoull(r.get_header_value("Content-Length").c_str(), nullptr, 10);
    t.url = url;
    break;
  }
  if (t.etag.empty() || t.etag.find('/') != std::string::npos ||
      t.etag.find("..") != std::string::npos)
    throw std::runtime_error(what + ": the server sent no usable ETag");
  if (t.commit.empty()) t.commit = cache_.commit_of(repo, revision).value_or(revision);
  if (!is_hex(t.commit, 40) && t.commit != revision)
    throw std::runtime_error(what + ": bad commit id from the server");

  const std::string blob = cache_.blob_path(repo, t.etag);
  std::error_code ec;
  auto finish = [&]() {
    cache_.set_ref(repo, revision, t.commit);
    cache_.link_snapshot(repo, t.commit, file, t.etag);
    return cache_.snapshot_path(repo, t.commit, file);
  };
  if (fs::is_regular_file(blob, ec) && (t.size == 0 || fs::file_size(blob, ec) == t.size))
    return finish();
  if (t.size == 0) throw std::runtime_error(what + ": the server did not report the file size");
  fs::create_directories(fs::path(blob).parent_path());

  const bool sha256 = is_hex(t.etag, 64), sha1 = is_hex(t.etag, 40);
  const std::string partial = blob + ".incomplete", sidecar = partial + ".parts";
  for (int round = 0; round < 2; ++round) {
    std::vector<std::unique_ptr<Part>> parts;
    uint64_t resumed = 0;
    if (fs::exists(partial, ec) && fs::file_size(partial, ec) == t.size &&
        load_parts(sidecar, t.size, parts)) {
      for (const auto& p : parts) resumed += p->done.load();
    } else {
      parts.clear();
      const int n = static_cast<int>(std::clamp<uint64_t>(
          t.size / kMinChunk, 1, static_cast<uint64_t>(std::max(1, opts_.connections))));
      for (int i = 0; i < n; ++i) {
        auto p = std::make_unique<Part>();
        p->begin = t.size * static_cast<uint64_t>(i) / static_cast<uint64_t>(n);
        p->end = t.size * static_cast<uint64_t>(i + 1) / static_cast<uint64_t>(n);
        parts.push_back(std::move(p));
      }
      const int fd0 = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd0 < 0 || ::ftruncate(fd0, static_cast<off_t>(t.size)) != 0) {
        if (fd0 >= 0) ::close(fd0);
        throw std::runtime_error(what + ": cannot create " + partial +
                                 " (disk full or no permission?)");
      }
      ::close(fd0);
      save_parts(sidecar, parts);
    }
    const int fd = ::open(partial.c_str(), O_WRONLY);
    if (fd < 0) throw std::runtime_error(what + ": cannot open " + partial);

    std::mutex err_m;
    std::string error;
    std::atomic<bool> abort{false};
    auto worker = [&](Part& p) {
      const Url u = split_url(t.url);
      for (int attempt = 1; p.done.load() < p.end - p.begin && !abort; ++attempt) {
        int status = 0;
        std::string retry_after;
        bool io_error = false;
        try {
          auto cli = make_client(u.origin, opts_.timeout_seconds);
          httplib::Headers h = t.same_origin ? auth : httplib::Headers{};
          h.emplace("Accept-Encoding", "identity");
          h.emplace("Range", "bytes=" + std::to_string(p.begin + p.done.load()) + "-" +
                                 std::to_string(p.end - 1));
          auto res = cli->Get(
              u.target.c_str(), h,
              [&](const httplib::Response& r) {
                status = r.status;
                retry_after = r.get_header_value("Retry-After");
                // A 200 (range ignored) is only usable when we asked for the whole file.
                if (status == 200 && p.begin == 0 && p.done.load() == 0 && p.end == t.size)
                  return true;
                if (status != 206) return false;
                const std::string cr = r.get_header_value("Content-Range");
                return cr.rfind("bytes " + std::to_string(p.begin + p.done.load()) + "-", 0) == 0;
              },
              [&](const char* data, size_t n) {
                const uint64_t room = p.end - p.begin - p.done.load();
                if (n > room) return false;  // more bytes than asked for
                const off_t off = static_cast<off_t>(p.begin + p.done.load());
                for (size_t w = 0; w < n;) {
                  const ssize_t k = ::pwrite(fd, data + w, n - w, off + static_cast<off_t>(w));
                  if (k <= 0) {
                    io_error = true;
                    return false;
                  }
                  w += static_cast<size_t>(k);
                }
                p.done += n;
                return !abort.load();
              });
          (void)res;
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lk(err_m);
          if (error.empty()) error = e.what();
          abort = true;
          return;
        }
        if (p.done.load() == p.end - p.begin) return;
        if (io_error) {
          std::lock_guard<std::mutex> lk(err_m);
          if (error.empty()) error = what + ": cannot write " + partial + " (disk full?)";
          abort = true;
          return;
        }
        const bool ok_status =
            status == 206 || status == 0 || (status == 200 && p.begin == 0 && p.end == t.size);
        if (!ok_status && !retryable(status)) {
          std::lock_guard<std::mutex> lk(err_m);
          if (error.empty()) {
            try {
              if (status == 200)
                throw std::runtime_error(what + ": the server ignored the byte range request");
              if (status == 416)
                throw std::runtime_error(what + ": the file on the server changed size");
              http_failure(status, what, repo);
            } catch (const std::exception& e) {
              error = e.what();
            }
          }
          abort = true;
          return;
        }
        if (attempt >= opts_.max_attempts) {
          std::lock_guard<std::mutex> lk(err_m);
          if (error.empty())
            error = what + ": gave up after " + std::to_string(attempt) + " attempts (last: " +
                    (status ? "HTTP " + std::to_string(status) : std::string("connection lost")) +
                    "); run the command again to resume";
          abort = true;
          return;
        }
        back_off(attempt, retry_after);
      }
    };

    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (auto& p : parts) threads.emplace_back(worker, std::ref(*p));
    auto report = [&](bool finished) {
      if (!opts_.progress) return;
      DownloadProgress pr;
      pr.file = repo + "/" + file;
      for (const auto& p : parts) pr.done += p->done.load();
      pr.total = t.size;
      pr.resumed_from = resumed;
      pr.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      pr.finished = finished;
      opts_.progress(pr);
    };
    std::atomic<bool> all_done{false};
    std::thread monitor([&] {
      auto last_save = Clock::now();
      while (!all_done) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        report(false);
        if (Clock::now() - last_save > std::chrono::seconds(1)) {
          save_parts(sidecar, parts);
          last_save = Clock::now();
        }
      }
    });
    for (auto& th : threads) th.join();
    all_done = true;
    monitor.join();
    ::fsync(fd);
    ::close(fd);
    save_parts(sidecar, parts);
    if (!error.empty()) throw std::runtime_error(error);
    report(true);

    if (sha256 || sha1) {
      const std::string got = file_digest(partial, sha1);
      if (got != t.etag) {
        // Corrupt data: start this file over once, then give up.
        fs::remove(partial, ec);
        fs::remove(sidecar, ec);
        if (round == 0) continue;
        throw std::runtime_error(what + ": checksum mismatch (expected " + t.etag + ", got " + got +
                                 ") twice; the download was deleted");
      }
    }
    fs::rename(partial, blob);
    fs::remove(sidecar, ec);
    return finish();
  }
  throw std::logic_error("unreachable");
}

}  // namespace qwen3::hub
