// A client for the Hugging Face Hub's model endpoints: lists a repository revision's files,
// downloads one into the shared cache (hub_cache.h) with parallel HTTP Range requests,
// resume after an interruption, retries with back-off on 429/5xx/dropped connections, and
// verification of the SHA-256 (LFS files) or git blob SHA-1 the Hub reports. A file only
// appears in the cache once verified: partial data lives in blobs/ETAG.incomplete.
//
// Environment, as huggingface_hub reads it: HF_ENDPOINT (mirrors; default
// https://huggingface.co), HF_TOKEN (gated and private repositories), HF_HUB_OFFLINE=1
// (cache only), HF_HUB_CACHE / HF_HOME (the cache folder).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hub/hub_cache.h"
#include "hub/model_ref.h"

namespace qwen3::hub {

struct DownloadProgress {
  std::string file;
  uint64_t done = 0;  // bytes on disk, including those of an earlier, interrupted run
  uint64_t total = 0;
  double seconds = 0;  // since this download started
  uint64_t resumed_from = 0;
  bool finished = false;
};

struct HubOptions {
  std::string endpoint = "https://huggingface.co";
  std::string token;
  bool offline = false;
  int connections = 4;   // parallel ranges per file (files under 16 MiB use one)
  int max_attempts = 6;  // per range, on retryable errors
  int timeout_seconds = 30;
  std::function<void(const DownloadProgress&)> progress;  // called ~5 times a second
  // From HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE.
  static HubOptions from_env();
};

struct RemoteFile {
  std::string path;
  uint64_t size = 0;
};

struct RepoListing {
  std::string commit;
  std::vector<RemoteFile> files;
};

// Errors the user can act on (not found, access denied, offline with nothing cached,
// checksum mismatch after a re-fetch) are std::runtime_error with a message that says what
// to do.
class HubClient {
 public:
  explicit HubClient(HubOptions opts = HubOptions::from_env(), HubCache cache = HubCache());

  RepoListing list(const std::string& repo, const std::string& revision) const;
  // The local path of `file` of the repository at `revision`, downloading it if needed.
  std::string fetch(const std::string& repo, const std::string& revision,
                    const std::string& file) const;
  // A model reference -> a local GGUF path (the file chosen by pick_gguf_file).
  std::string resolve(const ModelRef& ref) const;

  const HubCache& cache() const { return cache_; }

 private:
  HubOptions opts_;
  HubCache cache_;
};

}  // namespace qwen3::hub
