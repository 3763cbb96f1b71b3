// llama.cpp's logits for a token sequence, written like `qwen3 logits` writes ours (float32,
// one row of n_vocab per position, row-major), so bench/moe_crosscheck.sh can compare the
// two engines on the same GGUF. Built by that script against the libllama of the
// node-llama-cpp@3.21.1 release (bench/build_llamacpp.sh's tree), outside the CMake build
// and the test suite. The model's own rope scaling (YaRN) and MoE settings apply, as in
// llama-cli.
//
// Usage: llamacpp_logits MODEL.gguf IDS_FILE OUT.f32 [--last N] [--threads T] [--kv-f32]
//          [--bench N] [--lora ADAPTER.gguf[:SCALE]]...
//   IDS_FILE: token ids separated by commas or white space. --last N: only the last N rows.
//   --bench N: also time it: the ids as one prompt (prefill tok/s), then N tokens decoded
//   one at a time (decode tok/s), printed as JSON on stdout (a side-by-side partner for
//   `qwen3 bench` where llama-bench is not built).
//   --lora: a llama.cpp LoRA adapter GGUF with its scale (default 1), repeatable, as
//   llama-cli's --lora / --lora-scaled (bench/lora_crosscheck.sh).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "llama.h"
#include "llamacpp_ids.h"

namespace {

void quiet(ggml_log_level level, const char* text, void*) {
  if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr);
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "llamacpp_logits: %s\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return fail("usage: MODEL IDS_FILE OUT.f32 [--last N] [--threads T] [--kv-f32]");
  int last = 0, threads = 2, bench = 0;
  bool kv_f32 = false;
  std::vector<std::pair<std::string, float>> loras;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--last" && i + 1 < argc)
      last = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (a == "--bench" && i + 1 < argc)
      bench = std::atoi(argv[++i]);
    else if (a == "--lora" && i + 1 < argc) {
      std::string spec = argv[++i];
      float scale = 1.0f;
      const size_t colon = spec.rfind(':');
      if (colon != std::string::npos) {
        scale = std::strtof(spec.c_str() + colon + 1, nullptr);
        spec.resize(colon);
      }
      loras.emplace_back(spec, scale);
    } else if (a == "--kv-f32")
      kv_f32 = true;
    else
      return fail("unknown option " + a);
  }
  std::vector<llama_token> ids;
  if (!read_token_ids(argv[2], ids)) return fail(std::string("cannot open ") + argv[2]);
  if (ids.empty()) return fail("no token ids");
  const int n = static_cast<int>(ids.size());
  if (last <= 0 || last > n) last = n;

  llama_log_set(quiet, nullptr);
  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* model = llama_model_load_from_file(argv[1], mp);
  if (!model) return fail(std::string("cannot load ") + argv[1]);
  llama_context_params cp = llama_context_default_params();
  const int n_batch = 512;
  cp.n_ctx = static_cast<uint32_t>((n + bench + 255) / 256 * 256);
  cp.n_batch = n_batch;
  cp.n_ubatch = n_batch;
  cp.n_seq_max = 1;
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  if (kv_f32) {
    cp.type_k = GGML_TYPE_F32;
    cp.type_v = GGML_TYPE_F32;
  }
  llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) return fail("cannot create the context");
  if (!loras.empty()) {
    std::vector<llama_adapter_lora*> adapters;
    std::vector<float> scales;
    for (const auto& l : loras) {
      llama_adapter_lora* ad = llama_adapter_lora_init(model, l.first.c_str());
      if (!ad) return fail("cannot load the LoRA adapter " + l.first);
      adapters.push_back(ad);
      scales.push_back(l.second);
    }
    if (llama_set_adapters_lora(ctx, adapters.data(), adapters.size(), scales.data()) != 0)
      return fail("llama_set_adapters_lora failed");
  }
  const int V = llama_vocab_n_tokens(llama_model_get_vocab(model));

  std::vector<float> out(static_cast<size_t>(last) * V);
  llama_batch batch = llama_batch_init(n_batch, 0, 1);
  const auto t0 = std::chrono::steady_clock::now();
  for (int done = 0; done < n;) {
    const int nb = std::min(n_batch, n - done);
    batch.n_tokens = nb;
    for (int i = 0; i < nb; ++i) {
      const int pos = done + i;
      batch.token[i] = ids[static_cast<size_t>(pos)];
      batch.pos[i] = pos;
      batch.n_seq_id[i] = 1;
      batch.seq_id[i][0] = 0;
      batch.logits[i] = pos >= n - last;
    }
    if (llama_decode(ctx, batch) != 0) return fail("llama_decode failed");
    for (int i = 0; i < nb; ++i) {
      const int pos = done + i;
      if (pos < n - last) continue;
      const float* row = llama_get_logits_ith(ctx, i);
      if (!row) return fail("no logits");
      std::memcpy(&out[static_cast<size_t>(pos - (n - last)) * V], row, sizeof(float) * V);
    }
    done += nb;
  }
  const auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < bench; ++i) {  // decode: one token per step, greedy-free (fixed ids)
    batch.n_tokens = 1;
    batch.token[0] = ids[static_cast<size_t>(i) % ids.size()];
    batch.pos[0] = n + i;
    batch.n_seq_id[0] = 1;
    batch.seq_id[0][0] = 0;
    batch.logits[0] = 1;
    if (llama_decode(ctx, batch) != 0) return fail("llama_decode failed");
    (void)llama_get_logits_ith(ctx, 0);
  }
  const auto t2 = std::chrono::steady_clock::now();
  if (bench > 0) {
    const double pp = std::chrono::duration<double>(t1 - t0).count();
    const double tg = std::chrono::duration<double>(t2 - t1).count();
    std::printf("{\"prefill_tps\": %.3f, \"decode_tps\": %.3f}\n", n / pp, bench / tg);
  }
  llama_batch_free(batch);
  FILE* f = std::fopen(argv[3], "wb");
  if (!f || std::fwrite(out.data(), sizeof(float), out.size(), f) != out.size() ||
      std::fclose(f) != 0)
    return fail(std::string("cannot write ") + argv[3]);
  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
