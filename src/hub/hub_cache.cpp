// The Hugging Face cache layout (see hub_cache.h), with std::filesystem.
#include "hub/hub_cache.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace qwen3::hub {
namespace fs = std::filesystem;

std::string hub_cache_dir() {
  if (const char* c = std::getenv("HF_HUB_CACHE"); c && *c) return c;
  if (const char* h = std::getenv("HF_HOME"); h && *h) return std::string(h) + "/hub";
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::string(x) + "/huggingface/hub";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/huggingface/hub";
}

HubCache::HubCache(std::string root) : root_(std::move(root)) {}

std::string HubCache::repo_dir(const std::string& repo) const {
  std::string folder = "models--" + repo;
  for (size_t p; (p = folder.find('/')) != std::string::npos;) folder.replace(p, 1, "--");
  return root_ + "/" + folder;
}

std::string HubCache::blob_path(const std::string& repo, const std::string& etag) const {
  return repo_dir(repo) + "/blobs/" + etag;
}

std::string HubCache::snapshot_path(const std::string& repo, const std::string& commit,
                                    const std::string& file) const {
  return repo_dir(repo) + "/snapshots/" + commit + "/" + file;
}

std::optional<std::string> HubCache::commit_of(const std::string& repo,
                                               const std::string& revision) const {
  std::ifstream in(repo_dir(repo) + "/refs/" + revision);
  std::string commit;
  if (in >> commit && !commit.empty()) return commit;
  // A revision that is itself a commit needs no ref.
  std::error_code ec;
  if (fs::is_directory(repo_dir(repo) + "/snapshots/" + revision, ec)) return revision;
  return std::nullopt;
}

void HubCache::set_ref(const std::string& repo, const std::string& revision,
                       const std::string& commit) const {
  if (revision == commit) return;
  const fs::path ref = repo_dir(repo) + "/refs/" + revision;
  fs::create_directories(ref.parent_path());
  const fs::path tmp = ref.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << commit;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, ref);
}

void HubCache::link_snapshot(const std::string& repo, const std::string& commit,
                             const std::string& file, const std::string& etag) const {
  const fs::path link = snapshot_path(repo, commit, file);
  fs::create_directories(link.parent_path());
  const fs::path target = fs::relative(blob_path(repo, etag), link.parent_path());
  std::error_code ec;
  fs::remove(link, ec);
  fs::create_symlink(target, link);
}

std::optional<std::string> HubCache::find(const std::string& repo, const std::string& revision,
                                          const std::string& file) const {
  const auto commit = commit_of(repo, revision);
  if (!commit) return std::nullopt;
  const std::string p = snapshot_path(repo, *commit, file);
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return p;  // follows the symlink
  return std::nullopt;
}

std::vector<std::string> HubCache::snapshot_files(const std::string& repo,
                                                  const std::string& revision) const {
  std::vector<std::string> files;
  const auto commit = commit_of(repo, revision);
  if (!commit) return files;
  const fs::path dir = repo_dir(repo) + "/snapshots/" + *commit;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) files.push_back(it->path().lexically_relative(dir).string());
  return files;
}

std::vector<HubCache::Entry> HubCache::list() const {
  std::vector<Entry> out;
  std::error_code ec;
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("models--", 0) != 0 || !it->is_directory(ec)) continue;
    Entry e;
    e.repo = name.substr(8);
    if (const size_t p = e.repo.find("--"); p != std::string::npos) e.repo.replace(p, 2, "/");
    e.files = snapshot_files(e.repo, "main");
    std::error_code ec2;
    for (fs::directory_iterator b(it->path() / "blobs", ec2), bend; !ec2 && b != bend;
         b.increment(ec2))
      if (b->is_regular_file(ec2)) e.bytes += b->file_size(ec2);
    out.push_back(std::move(e));
  }
  return out;
}

bool HubCache::remove(const std::string& repo) const {
  std::error_code ec;
  if (!fs::is_directory(repo_dir(repo), ec)) return false;
  fs::remove_all(repo_dir(repo), ec);
  if (ec) throw std::runtime_error("cannot delete " + repo_dir(repo) + ": " + ec.message());
  return true;
}

}  // namespace qwen3::hub
