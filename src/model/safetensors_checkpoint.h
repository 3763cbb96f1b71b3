// All the safetensors of a Hugging Face model folder: a single model.safetensors, or
// the shards named by model.safetensors.index.json ("weight_map": name -> file). Each
// tensor must live in exactly one shard, and the index must agree with the shards.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/safetensors.h"

namespace qwen3::hf {

class SafetensorsCheckpoint {
 public:
  // `path`: a model folder, a model.safetensors.index.json or a single .safetensors file.
  static SafetensorsCheckpoint open(const std::string& path);

  const std::vector<std::string>& names() const { return names_; }  // in file order
  const SafetensorsTensor* find(std::string_view name) const;       // nullptr if absent
  const SafetensorsTensor& at(std::string_view name) const;         // SafetensorsError if absent
  const std::vector<SafetensorsFile>& shards() const { return shards_; }
  void release(const SafetensorsTensor& t) const;  // see SafetensorsFile::release
  uint64_t total_bytes() const;                    // sum of the tensor sizes

 private:
  struct Ref {
    size_t shard;
    const SafetensorsTensor* tensor;
  };
  void add_shard(SafetensorsFile f);
  std::vector<SafetensorsFile> shards_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, Ref> by_name_;
};

}  // namespace qwen3::hf
