// Progress line and argv rewriting for model references (see model_download.h).
#include "model_download.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "hub/model_ref.h"

namespace qwen3::cli {
namespace {

std::string human_bytes(double b) {
  const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char s[32];
  std::snprintf(s, sizeof s, u == 0 ? "%.0f %s" : "%.1f %s", b, unit[u]);
  return s;
}

// "pulling Qwen/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf  41% 2.0 GiB/4.7 GiB  85.2 MiB/s  ETA 32s"
// redrawn in place on a terminal, one line every 5 s otherwise.
void print_progress(const hub::DownloadProgress& p) {
  static const bool tty = ::isatty(STDERR_FILENO) != 0;
  static double last_line = -10;
  if (!tty && !p.finished && p.seconds - last_line < 5) return;
  last_line = p.seconds;
  const double fetched = static_cast<double>(p.done - p.resumed_from);
  const double speed = p.seconds > 0 ? fetched / p.seconds : 0;
  const double left = static_cast<double>(p.total - p.done);
  char eta[32] = "";
  if (!p.finished && speed > 0) std::snprintf(eta, sizeof eta, "  ETA %.0fs", left / speed);
  const double pct =
      p.total ? 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total) : 100;
  std::fprintf(stderr, "%spulling %s %3.0f%% %s/%s  %s/s%s%s", tty ? "\r\033[K" : "",
               p.file.c_str(), pct, human_bytes(static_cast<double>(p.done)).c_str(),
               human_bytes(static_cast<double>(p.total)).c_str(), human_bytes(speed).c_str(), eta,
               p.finished || !tty ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace

hub::HubClient make_hub_client() {
  hub::HubOptions o = hub::HubOptions::from_env();
  o.progress = print_progress;
  return hub::HubClient(o);
}

std::string resolve_model_ref(const std::string& ref, bool bare_repo) {
  const hub::ModelRef r = hub::parse_model_ref(ref, bare_repo);
  hub::HubClient client = make_hub_client();
  try {
    return client.resolve(r);
  } catch (const std::exception& e) {
    // Said for a user: which model, what went wrong, and the way out when offline.
    std::string msg = "cannot get the model '" + ref + "': " + e.what();
    if (hub::HubOptions::from_env().offline) {
      msg += "; unset HF_HUB_OFFLINE to download it, or run `qwen3 pull " + ref +
             "` on a machine that is online and copy the cache (`qwen3 list` shows what is there)";
    }
    throw std::runtime_error(msg);
  }
}

std::vector<std::string> resolve_model_args(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "-h" || a == "--help") return args;
  // A reference, unless a local file or folder has that name.
  auto is_ref = [](const std::string& v) {
    std::error_code ec;
    return hub::is_model_ref(v) && !std::filesystem::exists(v, ec);
  };
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool m = a == "-m" || a == "--model", hf = a == "-hf" || a == "--hf-repo";
    if ((m || hf) && i + 1 < args.size() && (hf || is_ref(args[i + 1]))) {
      out.push_back("-m");
      out.push_back(resolve_model_ref(args[++i], hf));
    } else if (a.rfind("--model=", 0) == 0 && is_ref(a.substr(8))) {
      out.push_back("--model=" + resolve_model_ref(a.substr(8), false));
    } else if (a.rfind("--hf-repo=", 0) == 0) {
      out.push_back("--model=" + resolve_model_ref(a.substr(10), true));
    } else {
      out.push_back(a);
    }
  }
  return out;
}

}  // namespace qwen3::cli
