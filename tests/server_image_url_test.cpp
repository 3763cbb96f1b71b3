// image_url parts beyond data URLs (`qwen3 serve --allow-remote-images`,
// `--allowed-image-dir DIR`): a local cpp-httplib server in the test serves a PNG, a
// redirect to it, a redirect loop, a 404, a non-image, a too-large body (with and without
// Content-Length); on a random-weight Qwen3-VL text + mmproj pair, the reply for the http
// URL and for a file:// URL inside the allowed directory equals the reply for the same
// image as a data URL (which server_vision_test compares with `qwen3 run --image`); the
// failures are 400s naming the part and the reason; without the flags remote URLs and
// local files are refused with a message naming the flag; a file outside the directory,
// and a symlink inside it pointing outside, are refused.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <httplib.h>

#include "image_test_util.h"
#include "scratch_files.h"
#include "serve_process.h"
#include "server/api_error.h"
#include "server/chat_images.h"
#include "vl_model_files.h"

namespace qwen3::test {
namespace {

namespace fs = std::filesystem;

fs::path scratch() {
  return test::scratch_dir("server_image_url_files");
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

struct Files {
  std::string text, mmproj;   // the tiny Qwen3-VL pair
  fs::path allowed, outside;  // allowed/a.png (+ allowed/link.png -> outside), outside/o.png
  std::string png;            // the bytes of a.png
};

const Files& files() {
  static const Files f = [] {
    Files r;
    const VlPair pair =
        gen_vl_pair(scratch() / "text.gguf", scratch() / "mmproj.gguf",
                    "--preset tiny --type f32 --seed 7 --tokenizer " + tokenizer_path());
    r.text = pair.text;
    r.mmproj = pair.mmproj;
    r.allowed = scratch() / "allowed";
    r.outside = scratch() / "outside";
    fs::create_directories(r.allowed);
    fs::create_directories(r.outside);
    testing::write_png((r.allowed / "a.png").string(), testing::pattern_image(64, 48, 1));
    testing::write_png((r.outside / "o.png").string(), testing::pattern_image(32, 32, 2));
    fs::remove(r.allowed / "link.png");
    fs::create_symlink(r.outside / "o.png", r.allowed / "link.png");
    r.png = read_all(r.allowed / "a.png");
    return r;
  }();
  return f;
}

using testing::base64;

// The stand-in image host.
class ImageHost {
 public:
  explicit ImageHost(const std::string& png) {
    srv_.Get("/a.png", [png](const httplib::Request&, httplib::Response& res) {
      res.set_content(png, "image/png");
    });
    srv_.Get("/untyped", [png](const httplib::Request&, httplib::Response& res) {
      res.set_content(png, "application/octet-stream");
    });
    srv_.Get("/redirect",
             [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/a.png"); });
    srv_.Get("/scheme-relative", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("//127.0.0.1:" + std::to_string(port_) + "/a.png");
    });
    srv_.Get("/loop",
             [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/loop"); });
    srv_.Get("/to-file", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("file:///etc/passwd");
    });
    srv_.Get("/text", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("<html>not an image</html>", "text/html");
    });
    srv_.Get("/garbage", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("these bytes are no image", "image/png");
    });
    srv_.Get("/huge", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(9u << 20, 'x'), "image/png");
    });
    srv_.Get("/huge-chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("image/png", [](std::size_t off, httplib::DataSink& sink) {
        if (off >= (64u << 20)) {
          sink.done();
          return true;
        }
        const std::string block(1u << 20, 'x');
        return sink.write(block.data(), block.size());
      });
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    th_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~ImageHost() {
    srv_.stop();
    th_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server srv_;
  int port_ = 0;
  std::thread th_;
};

json image_message(const std::string& url) {
  return {{"messages",
           json::array(
               {{{"role", "user"},
                 {"content", json::array({{{"type", "image_url"}, {"image_url", {{"url", url}}}},
                                          {{"type", "text"}, {"text", "What is it?"}}})}}})},
          {"max_tokens", 6},
          {"temperature", 0}};
}

struct Reply {
  int status = 0;
  std::string body;
};

Reply post(int port, const std::string& url) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(60, 0);
  auto res = cli.Post("/v1/chat/completions", image_message(url).dump(), "application/json");
  if (!res) return {-1, "no reply"};
  return {res->status, res->body};
}

std::string content(const Reply& r) {
  return json::parse(r.body)["choices"][0]["message"]["content"].get<std::string>();
}

void expect_400(const Reply& r, const std::string& says) {
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("messages[0].content[0].image_url.url"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(says), std::string::npos) << "want '" << says << "' in " << r.body;
}

TEST(ServerImageUrl, RemoteAndLocalImagesWithTheFlags) {
  const Files& f = files();
  ImageHost host(f.png);
  ServeProcess serve({"serve", "-m", f.text, "--mmproj", f.mmproj, "--port", "0", "-t", "2",
                      "--allow-remote-images", "--allowed-image-dir", f.allowed.string()},
                     "server_image_url_test.serve.log");
  ASSERT_GT(serve.port(), 0);
  ASSERT_TRUE(serve.wait_ready());
  const int port = serve.port();
  const Reply data = post(port, "data:image/png;base64," + base64(f.png));
  ASSERT_EQ(data.status, 200) << data.body;
  const std::string want = content(data);
  for (const std::string& url :
       {host.url("/a.png"), host.url("/redirect"), host.url("/scheme-relative"),
        host.url("/untyped"), "file://" + (f.allowed / "a.png").string(),
        (f.allowed / "a.png").string(),
        "file://" + (f.allowed / ".." / "allowed" / "a.png").string()}) {
    const Reply r = post(port, url);
    ASSERT_EQ(r.status, 200) << url << ": " << r.body;
    EXPECT_EQ(content(r), want) << url;
  }
  expect_400(post(port, host.url("/missing")), "answered HTTP 404");
  expect_400(post(port, host.url("/loop")), "redirects more than 3 times");
  expect_400(post(port, host.url("/to-file")), "not http(s)");
  expect_400(post(port, host.url("/text")), "was served as 'text/html', not an image");
  expect_400(post(port, host.url("/garbage")), "is not a usable image");
  expect_400(post(port, host.url("/huge")), "is larger than the limit of 8 MiB");
  expect_400(post(port, host.url("/huge-chunked")), "is larger than the limit of 8 MiB");
  expect_400(post(port, "http://127.0.0.1:1/a.png"), "is unreachable");
  // Outside the allowed directory: directly, through "..", through a symlink.
  expect_400(post(port, "file://" + (f.outside / "o.png").string()), "outside the directories");
  expect_400(post(port, "file://" + (f.allowed / ".." / "outside" / "o.png").string()),
             "outside the directories");
  expect_400(post(port, "file://" + (f.allowed / "link.png").string()), "outside the directories");
  expect_400(post(port, "file://" + (f.allowed / "none.png").string()), "not a readable file");
  expect_400(post(port, "file://relative.png"), "without an absolute path");
  EXPECT_EQ(serve.stop(), 0);
}

TEST(ServerImageUrl, RefusedWithoutTheFlags) {
  const Files& f = files();
  ImageHost host(f.png);
  ServeProcess serve({"serve", "-m", f.text, "--mmproj", f.mmproj, "--port", "0", "-t", "1"},
                     "server_image_url_test.noflags.log");
  ASSERT_GT(serve.port(), 0);
  ASSERT_TRUE(serve.wait_ready());
  expect_400(post(serve.port(), host.url("/a.png")), "--allow-remote-images");
  expect_400(post(serve.port(), "file://" + (f.allowed / "a.png").string()), "--allowed-image-dir");
  expect_400(post(serve.port(), (f.allowed / "a.png").string()), "--allowed-image-dir");
  expect_400(post(serve.port(), "ftp://example.com/a.png"), "does not fetch");
  EXPECT_EQ(serve.stop(), 0);
}

// The allowed-directory check itself, without a server: a directory given with a trailing
// slash, and a sibling directory whose name starts with the allowed one's.
TEST(ServerImageUrl, AllowedDirectoryPrefixes) {
  const Files& f = files();
  const fs::path sibling = scratch() / "allowed2";
  fs::create_directories(sibling);
  fs::copy_file(f.allowed / "a.png", sibling / "a.png", fs::copy_options::overwrite_existing);
  auto take = [](const std::string& url, const server::ImageSources& src) {
    json msgs = image_message(url)["messages"];
    return server::take_image_parts(msgs, src);
  };
  server::ImageSources src;
  src.allowed_dirs = {f.allowed.string() + "/"};
  EXPECT_EQ(take("file://" + (f.allowed / "a.png").string(), src)[0].size(), 1u);
  EXPECT_THROW(take("file://" + (sibling / "a.png").string(), src), server::ApiError);
  src.allowed_dirs = {f.allowed.string()};
  EXPECT_THROW(take("file://" + (sibling / "a.png").string(), src), server::ApiError);
}

}  // namespace
}  // namespace qwen3::test
