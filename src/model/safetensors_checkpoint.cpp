#include "model/safetensors_checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/file_bytes.h"

namespace qwen3::hf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kIndexName = "model.safetensors.index.json";

[[noreturn]] void fail(const std::string& what) {
  throw SafetensorsError(what);
}

std::string read_text(const fs::path& p) {
  std::optional<std::string> bytes = read_file_bytes(p);
  if (!bytes) fail(p.string() + ": cannot open");
  return std::move(*bytes);
}

// A shard name from the index must be a plain file name beside the index.
bool plain_file_name(const std::string& s) {
  return !s.empty() && s.find('/') == std::string::npos && s.find('\\') == std::string::npos &&
         s != "." && s != "..";
}

// weight_map of the index: tensor name -> shard file name.
std::map<std::string, std::string> read_index(const fs::path& index) {
  json j;
  try {
    j = json::parse(read_text(index));
  } catch (const json::exception& e) {
    fail(index.string() + ": not valid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail(index.string() + ": missing object 'weight_map'");
  std::map<std::string, std::string> map;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it->is_string() || !plain_file_name(it->get<std::string>()))
      fail(index.string() + ": weight_map entry '" + it.key() +
           "' must name a file beside the index");
    map[it.key()] = it->get<std::string>();
  }
  if (map.empty()) fail(index.string() + ": weight_map is empty");
  return map;
}

}  // namespace

void SafetensorsCheckpoint::add_shard(SafetensorsFile f) {
  const size_t idx = shards_.size();
  shards_.push_back(std::move(f));
  const SafetensorsFile& s = shards_.back();
  for (const auto& t : s.tensors()) {
    auto [it, inserted] = by_name_.emplace(t.name, Ref{idx, &t});
    if (!inserted)
      fail("tensor '" + t.name + "' is in both " + shards_[it->second.shard].path() + " and " +
           s.path());
    names_.push_back(t.name);
  }
}

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::string& path) {
  SafetensorsCheckpoint ck;
  fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / kIndexName)) {
      p = p / kIndexName;
    } else if (fs::exists(p / "model.safetensors")) {
      p = p / "model.safetensors";
    } else {
      // Some exports use other names: take every *.safetensors in the folder.
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(p, ec))
        if (e.is_regular_file() && e.path().extension() == ".safetensors")
          files.push_back(e.path());
      if (files.empty()) fail(path + ": no *.safetensors files and no " + kIndexName);
      std::sort(files.begin(), files.end());
      for (const auto& f : files) ck.add_shard(SafetensorsFile::open(f.string()));
      return ck;
    }
  } else if (!fs::exists(p, ec)) {
    fail(path + ": no such file or folder");
  }

  if (p.filename() == kIndexName || p.extension() == ".json") {
    const auto map = read_index(p);
    std::set<std::string> files;
    for (const auto& kv : map) files.insert(kv.second);
    for (const auto& f : files) {
      const fs::path shard = p.parent_path() / f;
      if (!fs::exists(shard)) fail(p.string() + " names shard " + f + ", which is missing");
      ck.add_shard(SafetensorsFile::open(shard.string()));
    }
    for (const auto& [name, file] : map) {
      auto it = ck.by_name_.find(name);
      if (it == ck.by_name_.end())
        fail(p.string() + ": tensor '" + name + "' is not in its shard " + file);
      if (fs::path(ck.shards_[it->second.shard].path()).filename() != file)
        fail(p.string() + ": tensor '" + name + "' is listed in " + file + " but stored in " +
             ck.shards_[it->second.shard].path());
    }
    for (const auto& name : ck.names_)
      if (!map.count(name)) fail(p.string() + ": tensor '" + name + "' is missing from weight_map");
    return ck;
  }
  ck.add_shard(SafetensorsFile::open(p.string()));
  return ck;
}

const SafetensorsTensor* SafetensorsCheckpoint::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second.tensor;
}

const SafetensorsTensor& SafetensorsCheckpoint::at(std::string_view name) const {
  const SafetensorsTensor* t = find(name);
  if (!t) fail("the checkpoint has no tensor '" + std::string(name) + "'");
  return *t;
}

void SafetensorsCheckpoint::release(const SafetensorsTensor& t) const {
  auto it = by_name_.find(t.name);
  if (it != by_name_.end()) shards_[it->second.shard].release(t);
}

uint64_t SafetensorsCheckpoint::total_bytes() const {
  uint64_t n = 0;
  for (const auto& s : shards_)
    for (const auto& t : s.tensors()) n += t.nbytes();
  return n;
}

}  // namespace qwen3::hf
