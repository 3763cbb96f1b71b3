// The local model cache, in the Hugging Face Hub layout so that files downloaded by the
// `huggingface_hub` Python library and by us are shared:
//   HUB/models--ORG--NAME/blobs/ETAG                  the file contents
//   HUB/models--ORG--NAME/snapshots/COMMIT/PATH       symlink -> ../../blobs/ETAG
//   HUB/models--ORG--NAME/refs/REVISION               the commit REVISION points to
// HUB is $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qwen3::hub {

std::string hub_cache_dir();

class HubCache {
 public:
  explicit HubCache(std::string root = hub_cache_dir());
  const std::string& root() const { return root_; }

  std::string repo_dir(const std::string& repo) const;  // HUB/models--ORG--NAME
  std::string blob_path(const std::string& repo, const std::string& etag) const;
  std::string snapshot_path(const std::string& repo, const std::string& commit,
                            const std::string& file) const;

  // The commit a revision pointed to when last resolved (refs/REVISION), if known.
  std::optional<std::string> commit_of(const std::string& repo, const std::string& revision) const;
  void set_ref(const std::string& repo, const std::string& revision,
               const std::string& commit) const;
  // Points snapshots/COMMIT/FILE at blobs/ETAG (replacing an older link).
  void link_snapshot(const std::string& repo, const std::string& commit, const std::string& file,
                     const std::string& etag) const;
  // The cached file for (repo, revision, file) if its snapshot link resolves to a blob.
  std::optional<std::string> find(const std::string& repo, const std::string& revision,
                                  const std::string& file) const;
  // The files of the cached snapshot of `revision` (paths relative to the snapshot).
  std::vector<std::string> snapshot_files(const std::string& repo,
                                          const std::string& revision) const;

  struct Entry {
    std::string repo;
    std::vector<std::string> files;  // snapshot paths of the last resolved main/revision
    uint64_t bytes = 0;              // blobs on disk
  };
  std::vector<Entry> list() const;
  // Deletes a repository's folder; false if it was not cached.
  bool remove(const std::string& repo) const;

 private:
  std::string root_;
};

}  // namespace qwen3::hub
