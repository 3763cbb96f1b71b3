// Builds a deeper GGUF from a shallower one by repeating its blocks, for memory and speed
// measurements of shapes too large to generate weight by weight on a small machine (the
// full 48-block 30B-A3B Q4_K_M: ~18 GiB). Block i of the output copies the bytes of a
// block j of the input whose Q4_K_M types are the ones block i gets (llama.cpp's
// use_more_bits rule decides attn_v and ffn_down(_exps)), so every tensor has the type,
// shape and size the real file has; only the random values repeat. Not a model to test
// outputs with. Built by hand against the build's static libraries (see docs/moe.md).
//
// Usage: stack_layers IN.gguf OUT.gguf N_BLOCKS
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "model/convert_types.h"

using namespace qwen3;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: stack_layers IN.gguf OUT.gguf N_BLOCKS\n");
    return 2;
  }
  const gguf::GgufFile f = gguf::GgufFile::open(argv[1]);
  const int n_out = std::atoi(argv[3]);
  const std::string arch = *f.get_string("general.architecture");
  const int n_in = static_cast<int>(*f.get_uint(arch + ".block_count"));
  if (n_out < 1) return 2;
  gguf::GgufWriter w;
  for (const auto& k : f.keys()) {
    if (k == arch + ".block_count") {
      w.set_u32(k, static_cast<uint32_t>(n_out));
    } else if (!w.copy_key(f, k)) {
      std::fprintf(stderr, "stack_layers: key %s has a type this tool does not copy\n", k.c_str());
      return 2;
    }
  }
  auto add = [&](const std::string& out_name, const gguf::TensorInfo& t) {
    w.add_tensor_lazy(out_name, t.type, t.dims,
                      [&t](void* dst, size_t n) { std::memcpy(dst, t.data, n); });
  };
  for (const auto& t : f.tensors())
    if (t.name.rfind("blk.", 0) != 0 && t.name != "output_norm.weight" && t.name != "output.weight")
      add(t.name, t);
  for (int i = 0; i < n_out; ++i) {
    const bool more = hf::use_more_bits(i, n_out);
    int src = -1;
    for (int j = 0; j < n_in && src < 0; ++j)
      if (hf::use_more_bits(j, n_in) == more) src = j;
    if (src < 0) {
      std::fprintf(stderr, "stack_layers: no input block with the types of block %d\n", i);
      return 2;
    }
    const std::string from = "blk." + std::to_string(src) + ".";
    for (const auto& t : f.tensors())
      if (t.name.rfind(from, 0) == 0)
        add("blk." + std::to_string(i) + "." + t.name.substr(from.size()), t);
  }
  for (const char* name : {"output_norm.weight", "output.weight"})
    if (const auto* t = f.tensor(name)) add(name, *t);
  w.write(argv[2]);
  return 0;
}
