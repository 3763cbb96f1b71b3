#include "engine/replay_backend.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/file_bytes.h"
#include "engine/backend.h"
#include "text/tokenizer.h"

namespace qwen3::engine {
namespace {

constexpr float kWanted = 30.0f;
constexpr float kOther = -30.0f;

std::string read_file(const std::string& path) {
  std::optional<std::string> bytes = read_file_bytes(path);
  if (!bytes) throw std::runtime_error("replay backend: cannot read replay_file '" + path + "'");
  return std::move(*bytes);
}

std::string property(const Properties& p, const std::string& key) {
  auto it = p.find(key);
  return it == p.end() ? std::string() : it->second;
}

class ReplayBackend : public TokenBackend {
 public:
  explicit ReplayBackend(const BackendOptions& opts)
      : tokenizer_(Tokenizer::from_file(opts.model_path)),
        n_ctx_(opts.n_ctx > 0 ? opts.n_ctx : 4096) {
    std::string text = property(opts.properties, "replay_text");
    if (text.empty()) {
      std::string file = property(opts.properties, "replay_file");
      if (file.empty()) {
        throw std::invalid_argument("replay backend: needs a replay_text or replay_file property");
      }
      text = read_file(file);
    }
    sequence_ = tokenizer_.encode(text, true);
    if (sequence_.empty()) throw std::invalid_argument("replay backend: the replay is empty");
    std::string delay = property(opts.properties, "replay_delay_ms");
    if (!delay.empty()) {
      try {
        delay_ms_ = std::stoi(delay);
      } catch (const std::exception&) {
        throw std::invalid_argument("replay backend: replay_delay_ms must be an integer");
      }
      if (delay_ms_ < 0) throw std::invalid_argument("replay backend: replay_delay_ms < 0");
    }
    logits_.assign(static_cast<size_t>(tokenizer_.n_vocab()), kOther);
  }

  BackendCapabilities capabilities() const override {
    return {"replay", "CPU", true, static_cast<std::size_t>(n_ctx_)};
  }
  const Tokenizer& tokenizer() const override { return tokenizer_; }
  int n_ctx() const override { return n_ctx_; }
  int n_past() const override { return n_past_; }
  int n_vocab() const override { return tokenizer_.n_vocab(); }

  void truncate(int n_past) override {
    if (n_past < 0 || n_past > n_past_) throw std::out_of_range("replay backend: bad truncate");
    n_past_ = n_past;
  }

  const float* eval(const std::int32_t* ids, int n) override {
    if (n <= 0) throw std::invalid_argument("replay backend: eval of no tokens");
    if (n_past_ + n > n_ctx_) throw std::length_error("replay backend: context full");
    for (int i = 0; i < n; ++i) {
      if (ids[i] < 0 || ids[i] >= tokenizer_.n_vocab()) {
        throw std::out_of_range("replay backend: token id out of range");
      }
    }
    // The sampled token fed back continues the replay; anything else is a new prompt.
    bool continues = n == 1 && cursor_ < sequence_.size() && ids[0] == sequence_[cursor_];
    cursor_ = continues ? cursor_ + 1 : 0;
    n_past_ += n;
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    logits_[static_cast<size_t>(wanted_)] = kOther;
    wanted_ = cursor_ < sequence_.size() ? sequence_[cursor_] : tokenizer_.im_end_id();
    logits_[static_cast<size_t>(wanted_)] = kWanted;
    return logits_.data();
  }

 private:
  Tokenizer tokenizer_;
  int n_ctx_;
  int n_past_ = 0;
  int delay_ms_ = 0;
  std::vector<std::int32_t> sequence_;
  std::size_t cursor_ = 0;  // index in sequence_ of the token the last logits asked for
  std::int32_t wanted_ = 0;
  std::vector<float> logits_;
};

}  // namespace

void register_replay_backend() {
  register_backend("replay", [](const BackendOptions& opts) -> std::unique_ptr<Backend> {
    return std::make_unique<ReplayBackend>(opts);
  });
}

std::vector<std::int32_t> replay_tokens(const std::string& tokenizer_path,
                                        const std::string& text) {
  return Tokenizer::from_file(tokenizer_path).encode(text, true);
}

}  // namespace qwen3::engine
