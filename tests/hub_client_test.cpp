// The Hugging Face Hub client against a local server shaped like the Hub: the revision
// API, resolve/ with the LFS redirect and its X-Linked-Etag / X-Repo-Commit headers, a CDN
// that honours Range, and injected faults (a connection dropped mid-file, corrupt bytes,
// 429 with Retry-After, 5xx, 401 for a gated repository, 404). Checks resume (bytes are not
// fetched twice), corruption detection and re-fetch, that nothing half-written is ever
// taken for a valid file, the cache layout, offline mode, and `qwen3 pull` / `run -m hf://`
// end to end.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

#include "hub/hub_client.h"
#include "hub/model_ref.h"
#include "convert/random_model.h"
#include "text/tokenizer.h"

namespace qwen3::hub {
namespace {
namespace fs = std::filesystem;

std::string hex_digest(const std::string& data, bool git_sha1) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, git_sha1 ? EVP_sha1() : EVP_sha256(), nullptr);
  if (git_sha1) {
    const std::string head = "blob " + std::to_string(data.size()) + std::string(1, '\0');
    EVP_DigestUpdate(ctx, head.data(), head.size());
  }
  EVP_DigestUpdate(ctx, data.data(), data.size());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  char b[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, "%02x", md[i]);
    hex += b;
  }
  return hex;
}

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng();
    std::memcpy(&s[i], &v, std::min<size_t>(8, n - i));
  }
  return s;
}

// The Hub, as far as the client sees it.
class FakeHub {
 public:
  struct Repo {
    std::string commit;
    std::map<std::string, std::string> files;  // path -> contents (".gguf" files are LFS)
    bool gated = false;
  };

  // Faults, consumed as they fire.
  std::atomic<int> drop_after_bytes{-1};  // next CDN response stops after this many bytes
  std::atomic<int> drops{0};              // how many responses to drop that way
  std::atomic<int> corrupt{0};            // next N CDN responses flip a byte
  std::atomic<int> fail_429{0};
  std::atomic<int> fail_500{0};
  std::atomic<long> cdn_bytes{0};  // bytes the CDN sent
  std::atomic<int> cdn_requests{0};
  std::atomic<int> api_requests{0};

  FakeHub() {
    srv_.Get(R"(/api/models/([^/]+)/([^/]+)/revision/([^/]+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               ++api_requests;
               const Repo* r = repo(req, res, req.matches[1].str() + "/" + req.matches[2].str());
               if (!r) return;
               nlohmann::json sib = nlohmann::json::array();
               for (const auto& [p, c] : r->files)
                 sib.push_back({{"rfilename", p}, {"size", c.size()}});
               res.set_content(nlohmann::json{{"sha", r->commit}, {"siblings", sib}}.dump(),
                               "application/json");
             });
    // GET on resolve/ serves files stored in git directly (LFS files redirect on HEAD).
    srv_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               const Repo* r = repo(req, res, req.matches[1].str() + "/" + req.matches[2].str());
               if (!r) return;
               auto f = r->files.find(req.matches[4].str());
               if (f == r->files.end()) {
                 res.status = 404;
                 return;
               }
               serve(f->second, res);
             });
    srv_.Get(R"(/cdn/([0-9a-f]+))",
             [this](const httplib::Request& req, httplib::Response& res) { cdn(req, res); });
    srv_.set_keep_alive_max_count(1);
    srv_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.method != "HEAD" || req.path.find("/resolve/") == std::string::npos)
        return httplib::Server::HandlerResponse::Unhandled;
      resolve(req, res);
      return httplib::Server::HandlerResponse::Handled;
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeHub() {
    srv_.stop();
    thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void add(const std::string& name, Repo r) {
    std::lock_guard<std::mutex> lk(m_);
    repos_[name] = std::move(r);
    for (const auto& [p, c] : repos_[name].files) blobs_[hex_digest(c, false)] = c;
  }
  std::string token = "hf_test_token";

 private:
  const Repo* repo(const httplib::Request& req, httplib::Response& res, const std::string& name) {
    std::lock_guard<std::mutex> lk(m_);
    auto it = repos_.find(name);
    if (it == repos_.end()) {
      res.status = 404;
      res.set_header("X-Error-Code", "RepoNotFound");
      return nullptr;
    }
    if (it->second.gated && req.get_header_value("Authorization") != "Bearer " + token) {
      res.status = 401;
      return nullptr;
    }
    return &it->second;
  }

  void resolve(const httplib::Request& req, httplib::Response& res) {
    // /ORG/NAME/resolve/REV/PATH
    const std::string p = req.path.substr(1);
    const size_t s1 = p.find('/'), s2 = p.find('/', s1 + 1),
                 s4 = p.find('/', p.find('/', s2 + 1) + 1);
    const std::string name = p.substr(0, s2), file = p.substr(s4 + 1);
    if (fail_429 > 0) {
      --fail_429;
      res.status = 429;
      res.set_header("Retry-After", "0");
      return;
    }
    const Repo* r = repo(req, res, name);
    if (!r) return;
    auto f = r->files.find(file);
    if (f == r->files.end()) {
      res.status = 404;
      res.set_header("X-Error-Code", "EntryNotFound");
      return;
    }
    res.set_header("X-Repo-Commit", r->commit);
    if (file.size() > 5 && file.substr(file.size() - 5) == ".gguf") {
      const std::string sha = hex_digest(f->second, false);
      res.status = 302;
      res.set_header("Location", endpoint() + "/cdn/" + sha);
      res.set_header("X-Linked-Etag", "\"" + sha + "\"");
      res.set_header("X-Linked-Size", std::to_string(f->second.size()));
      res.set_header("ETag", "\"" + hex_digest(f->second, true) + "\"");
    } else {
      res.status = 200;
      res.set_header("ETag", "\"" + hex_digest(f->second, true) + "\"");
      res.set_header("Content-Length", std::to_string(f->second.size()));
    }
  }

  void cdn(const httplib::Request& req, httplib::Response& res) {
    ++cdn_requests;
    if (fail_500 > 0) {
      --fail_500;
      res.status = 503;
      return;
    }
    std::string data;
    {
      std::lock_guard<std::mutex> lk(m_);
      auto it = blobs_.find(req.matches[1].str());
      if (it == blobs_.end()) {
        res.status = 404;
        return;
      }
      data = it->second;
    }
    serve(std::move(data), res);
  }

  // Bytes with Range support (cpp-httplib answers a Range request with 206) and the
  // injected faults.
  void serve(std::string data, httplib::Response& res) {
    if (corrupt > 0) {
      --corrupt;
      data[data.size() / 2] ^= 0x5a;
    }
    long limit = -1;
    if (drops > 0) {
      --drops;
      limit = drop_after_bytes;
    }
    auto shared = std::make_shared<std::string>(std::move(data));
    auto sent = std::make_shared<long>(0);
    res.set_content_provider(
        shared->size(), "application/octet-stream",
        [this, shared, sent, limit](size_t off, size_t len, httplib::DataSink& sink) {
          len = std::min<size_t>(len, 64 * 1024);
          if (limit >= 0 && *sent + static_cast<long>(len) > limit) {
            const long part = limit - *sent;
            if (part > 0) {
              sink.write(shared->data() + off, static_cast<size_t>(part));
              cdn_bytes += part;
            }
            return false;  // drops the connection mid-file
          }
          sink.write(shared->data() + off, len);
          *sent += static_cast<long>(len);
          cdn_bytes += static_cast<long>(len);
          return true;
        });
  }

  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
  std::mutex m_;
  std::map<std::string, Repo> repos_;
  std::map<std::string, std::string> blobs_;
};

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

class HubClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_dir_ = std::string(QWEN3_BUILD_DIR) + "/hub_client_test_cache";
    fs::remove_all(cache_dir_);
    q8_ = random_bytes(3 << 20, 1);
    q4_ = random_bytes((3 << 20) + 12345, 2);
    big_ = random_bytes((40 << 20) + 7, 3);
    hub_.add("Qwen/Tiny-GGUF", {kCommit,
                                {{"Tiny-Q8_0.gguf", q8_},
                                 {"Tiny-Q4_K_M.gguf", q4_},
                                 {"README.md", "# Tiny\n"},
                                 {"params/config.json", "{\"a\": 1}\n"}}});
    hub_.add("Qwen/Big-GGUF", {kCommit, {{"Big-Q8_0.gguf", big_}}});
    FakeHub::Repo gated{kCommit, {{"G-Q8_0.gguf", q8_}}};
    gated.gated = true;
    hub_.add("Org/Gated-GGUF", gated);
  }
  void TearDown() override { fs::remove_all(cache_dir_); }

  HubClient client(int attempts = 6, std::string token = "") {
    HubOptions o;
    o.endpoint = hub_.endpoint();
    o.max_attempts = attempts;
    o.token = std::move(token);
    o.timeout_seconds = 5;
    return HubClient(o, HubCache(cache_dir_));
  }
  static std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  FakeHub hub_;
  std::string cache_dir_, q8_, q4_, big_;
};

TEST_F(HubClientTest, ResolvesTheQuantAndFillsTheCacheLayout) {
  const std::string path = client().resolve(parse_model_ref("hf://Qwen/Tiny-GGUF:q8_0"));
  EXPECT_EQ(read(path), q8_);
  const HubCache cache(cache_dir_);
  EXPECT_EQ(path, cache.snapshot_path("Qwen/Tiny-GGUF", kCommit, "Tiny-Q8_0.gguf"));
  EXPECT_TRUE(fs::is_symlink(path));
  EXPECT_EQ(fs::canonical(path),
            fs::canonical(cache.blob_path("Qwen/Tiny-GGUF", hex_digest(q8_, false))));
  EXPECT_EQ(read(cache_dir_ + "/models--Qwen--Tiny-GGUF/refs/main"), kCommit);
  // No quant: Q4_K_M is preferred.
  EXPECT_EQ(read(client().resolve(parse_model_ref("hf://Qwen/Tiny-GGUF"))), q4_);
  // A second fetch finds the verified blob: no bytes move.
  const long before = hub_.cdn_bytes;
  EXPECT_EQ(client().resolve(parse_model_ref("hf://Qwen/Tiny-GGUF:Q8_0")), path);
  EXPECT_EQ(hub_.cdn_bytes, before);
}

TEST_F(HubClientTest, NonLfsFilesAreCheckedWithTheGitBlobSha1) {
  const std::string p = client().fetch("Qwen/Tiny-GGUF", "main", "params/config.json");
  EXPECT_EQ(read(p), "{\"a\": 1}\n");
  EXPECT_TRUE(fs::exists(
      HubCache(cache_dir_).blob_path("Qwen/Tiny-GGUF", hex_digest("{\"a\": 1}\n", true))));
}

TEST_F(HubClientTest, LargeFilesComeInParallelRanges) {
  const std::string path = client().resolve(parse_model_ref("hf://Qwen/Big-GGUF"));
  EXPECT_EQ(read(path), big_);
  EXPECT_GE(hub_.cdn_requests, 2);
  EXPECT_EQ(hub_.cdn_bytes, static_cast<long>(big_.size()));
}

TEST_F(HubClientTest, ADroppedConnectionResumesWhereItStopped) {
  hub_.drop_after_bytes = 1 << 20;
  hub_.drops = 2;
  const std::string path = client().resolve(parse_model_ref("hf://Qwen/Tiny-GGUF:Q8_0"));
  EXPECT_EQ(read(path), q8_);
  EXPECT_EQ(hub_.cdn_bytes, static_cast<long>(q8_.size())) << "bytes fetched twice";
  EXPECT_EQ(hub_.cdn_requests, 3);
}

TEST_F(HubClientTest, AnInterruptedRunResumesInTheNextRunAndNothingHalfWrittenIsValid) {
  hub_.drop_after_bytes = (1 << 20) + 100;
  hub_.drops = 1;
  const ModelRef ref = parse_model_ref("hf://Qwen/Tiny-GGUF:Q8_0");
  try {
    client(/*attempts=*/1).resolve(ref);
    FAIL() << "expected the first run to give up";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("run the command again to resume"), std::string::npos)
        << e.what();
  }
  const HubCache cache(cache_dir_);
  const std::string blob = cache.blob_path("Qwen/Tiny-GGUF", hex_digest(q8_, false));
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_TRUE(fs::exists(blob + ".incomplete"));
  EXPECT_FALSE(cache.find("Qwen/Tiny-GGUF", "main", "Tiny-Q8_0.gguf"));
  // Offline, the partial file is not offered either.
  HubOptions off;
  off.offline = true;
  EXPECT_THROW(HubClient(off, cache).resolve(ref), std::runtime_error);

  const long first = hub_.cdn_bytes;
  EXPECT_EQ(read(client().resolve(ref)), q8_);
  EXPECT_EQ(hub_.cdn_bytes - first, static_cast<long>(q8_.size()) - first);
  EXPECT_FALSE(fs::exists(blob + ".incomplete"));
  EXPECT_FALSE(fs::exists(blob + ".incomplete.parts"));
}

TEST_F(HubClientTest, CorruptBytesAreDetectedAndFetchedAgain) {
  hub_.corrupt = 1;
  EXPECT_EQ(read(client().resolve(parse_model_ref("hf://Qwen/Tiny-GGUF:Q8_0"))), q8_);
  EXPECT_EQ(hub_.cdn_bytes, 2 * static_cast<long>(q8_.size()));
}

TEST_F(HubClientTest, PersistentCorruptionIsAnErrorAndLeavesNothing) {
  hub_.corrupt = 100;
  try {
    client().resolve(parse_model_ref("hf://Qwen/Tiny-GGUF:Q8_0"));
    FAIL() << "expected a checksum error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
  }
  const std::string blob = HubCache(cache_dir_).blob_path("Qwen/Tiny-GGUF", hex_digest(q8_, false));
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_FALSE(fs::exists(blob + ".incomplete"));
}

TEST_F(HubClientTest, RetriesRateLimitsAndServerErrors) {
  hub_.fail_429 = 2;
  hub_.fail_500 = 2;
  EXPECT_EQ(read(client().resolve(parse_model_ref("hf://Qwen/Tiny-GGUF:Q8_0"))), q8_);
}

TEST_F(HubClientTest, ClearErrorsForMissingAndGatedRepositories) {
  auto message = [&](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(
      message([&] { client().resolve(parse_model_ref("hf://Qwen/Nope-GGUF")); }).find("not found"),
      std::string::npos);
  EXPECT_NE(message([&] {
              client().resolve(parse_model_ref("hf://Qwen/Tiny-GGUF:Q2_K"));
            }).find("has no Q2_K file; it has: Q4_K_M, Q8_0"),
            std::string::npos);
  EXPECT_NE(
      message([&] { client().fetch("Qwen/Tiny-GGUF", "main", "nope.bin"); }).find("not found"),
      std::string::npos);
  const std::string gated =
      message([&] { client().resolve(parse_model_ref("hf://Org/Gated-GGUF")); });
  EXPECT_NE(gated.find("HF_TOKEN"), std::string::npos) << gated;
  EXPECT_EQ(read(client(6, hub_.token).resolve(parse_model_ref("hf://Org/Gated-GGUF"))), q8_);
  HubOptions dead;
  dead.endpoint = "http://127.0.0.1:1";
  dead.max_attempts = 1;
  dead.timeout_seconds = 2;
  EXPECT_NE(message([&] {
              HubClient(dead, HubCache(cache_dir_)).resolve(parse_model_ref("hf://A/B"));
            }).find("HF_HUB_OFFLINE"),
            std::string::npos);
}

TEST_F(HubClientTest, OfflineModeUsesTheCacheOnly) {
  const std::string path = client().resolve(parse_model_ref("hf://Qwen/Tiny-GGUF:Q8_0"));
  HubOptions off;
  off.offline = true;
  off.endpoint = "http://127.0.0.1:1";
  const HubClient offline(off, HubCache(cache_dir_));
  const int api = hub_.api_requests;
  EXPECT_EQ(offline.resolve(parse_model_ref("hf://Qwen/Tiny-GGUF:Q8_0")), path);
  EXPECT_EQ(hub_.api_requests, api);
  EXPECT_THROW(offline.resolve(parse_model_ref("hf://Qwen/Big-GGUF")), std::runtime_error);
}

TEST(ModelRef, ParsesReferencesAndShortNames) {
  ModelRef r = parse_model_ref("hf://Qwen/Qwen3-8B-GGUF:q4_k_m");
  EXPECT_EQ(r.repo, "Qwen/Qwen3-8B-GGUF");
  EXPECT_EQ(r.quant, "Q4_K_M");
  EXPECT_EQ(r.revision, "main");
  r = parse_model_ref("Qwen/Qwen3-8B-GGUF@v1.0", true);
  EXPECT_EQ(r.revision, "v1.0");
  EXPECT_EQ(r.quant, "");
  r = parse_model_ref("qwen3:8b");
  EXPECT_EQ(r.repo, "Qwen/Qwen3-8B-GGUF");
  r = parse_model_ref("QWEN3:0.6b-q8_0");
  EXPECT_EQ(r.repo, "Qwen/Qwen3-0.6B-GGUF");
  EXPECT_EQ(r.quant, "Q8_0");
  EXPECT_TRUE(is_model_ref("hf://a/b"));
  EXPECT_TRUE(is_model_ref("qwen3:4b"));
  EXPECT_FALSE(is_model_ref("model.gguf"));
  EXPECT_FALSE(is_model_ref("qwen3:9b"));
  for (const char* bad : {"hf://", "hf://Qwen", "hf://a/b/c", "hf://../x", "hf://a/.b", "hf://a/b:",
                          "hf://a/b:Q4 K", "hf://a/b@", "hf://a/b@../x", "qwen3:8b-", "Qwen/Qwen3"})
    EXPECT_THROW(parse_model_ref(bad), std::invalid_argument) << bad;
}

TEST(ModelRef, PicksTheGgufForAQuant) {
  const std::vector<std::string> files = {"README.md", "Qwen3-8B-Q5_K_M.gguf", "Qwen3-8B-Q8_0.gguf",
                                          "Qwen3-8B-Q4_K_M.gguf", "mmproj-Qwen3-F16.gguf"};
  EXPECT_EQ(pick_gguf_file(files, "", "r"), "Qwen3-8B-Q4_K_M.gguf");
  EXPECT_EQ(pick_gguf_file(files, "Q8_0", "r"), "Qwen3-8B-Q8_0.gguf");
  EXPECT_EQ(pick_gguf_file({"a-Q6_K.gguf", "b-Q8_0.gguf"}, "", "r"), "b-Q8_0.gguf");
  EXPECT_EQ(pick_gguf_file({"b-Q6_K.gguf", "a-Q5_0.gguf"}, "", "r"), "a-Q5_0.gguf");
  EXPECT_THROW(pick_gguf_file({"README.md"}, "", "r"), std::runtime_error);
  EXPECT_THROW(
      pick_gguf_file({"x-Q8_0-00001-of-00002.gguf", "x-Q8_0-00002-of-00002.gguf"}, "Q8_0", "r"),
      std::runtime_error);
}

// `qwen3 pull`, `run -m hf://` and `list` / `rm` through the real binary.
TEST_F(HubClientTest, CommandLineEndToEnd) {
  const auto tok = Tokenizer::from_file(std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer.json");
  GenModelOptions o;
  o.config = Qwen3Config::tiny();
  o.type = parse_gen_model_type("q8_0");
  o.seed = 3;
  const std::string model_path = std::string(QWEN3_BUILD_DIR) + "/hub_client_test_model.gguf";
  generate_random_model(o, tok, model_path);
  hub_.add("Test/Tiny-GGUF", {kCommit, {{"Tiny-Q8_0.gguf", read(model_path)}}});
  hub_.drop_after_bytes = 100000;
  hub_.drops = 1;
  const std::string env = "HF_ENDPOINT=" + hub_.endpoint() + " HF_HUB_CACHE=" + cache_dir_ + " ";
  auto run = [&](const std::string& args, std::string* out) {
    FILE* p = popen((env + QWEN3_BIN + " " + args + " 2>&1").c_str(), "r");
    char buf[4096];
    out->clear();
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out->append(buf, n);
    return WEXITSTATUS(pclose(p));
  };
  std::string out;
  ASSERT_EQ(run("pull hf://Test/Tiny-GGUF", &out), 0) << out;
  EXPECT_NE(out.find("models--Test--Tiny-GGUF/snapshots/" + kCommit + "/Tiny-Q8_0.gguf"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("pulling Test/Tiny-GGUF/Tiny-Q8_0.gguf 100%"), std::string::npos) << out;
  ASSERT_EQ(run("run -m hf://Test/Tiny-GGUF:Q8_0 -p hi -n 3 --temp 0", &out), 0) << out;
  ASSERT_EQ(run("run -hf Test/Tiny-GGUF -p hi -n 3 --temp 0", &out), 0) << out;
  ASSERT_EQ(run("list", &out), 0) << out;
  EXPECT_NE(out.find("Test/Tiny-GGUF"), std::string::npos) << out;
  ASSERT_EQ(run("rm Test/Tiny-GGUF", &out), 0) << out;
  EXPECT_NE(run("run -m hf://Test/Missing-GGUF -p hi -n 1", &out), 0);
  EXPECT_NE(out.find("not found"), std::string::npos) << out;
  fs::remove(model_path);
}

}  // namespace
}  // namespace qwen3::hub
