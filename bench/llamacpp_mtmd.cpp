// llama.cpp's Qwen3-VL image embeddings (libmtmd) for images, written as float32 rows
// (one row of n_embd x (1 + DeepStack layers) per image token, row-major, the images one
// after another), so the vision
// tests can compare our encoder with the reference on the same mmproj GGUF. Built by CMake
// only where the llama.cpp reference build (bench/build_llamacpp.sh's tree) exists.
//
// Usage: llamacpp_mtmd TEXT.gguf MMPROJ.gguf OUT.f32 (--image FILE | --rgb W H FILE.rgb)...
//          [--threads T] [--flash-attn] [--bench N]
//   --image: decoded by libmtmd's helper (stb_image); --rgb: raw 8-bit RGB pixels.
//   Prints {"n_tokens":[..per image..],"dim":..} (and "encode_ms": the median of N runs of
//   the first image with --bench N) on stdout. Flash attention is off unless --flash-attn
//   (it rounds K and V to F16).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "ggml-backend.h"
#include "llama.h"
#include "mtmd-helper.h"
#include "mtmd.h"

namespace {

void quiet(ggml_log_level level, const char* text, void*) {
  if (level >= GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

// QWEN3_MTMD_DUMP=DIR: every contiguous F32 graph tensor written to DIR/<name>.f32
// (debugging the crosscheck layer by layer).
bool dump_tensor(ggml_tensor* t, bool ask, void*) {
  if (ask) return t->type == GGML_TYPE_F32;
  const char* dir = std::getenv("QWEN3_MTMD_DUMP");
  if (!dir || !ggml_is_contiguous(t)) return true;
  std::vector<float> v(ggml_nelements(t));
  ggml_backend_tensor_get(t, v.data(), 0, v.size() * sizeof(float));
  FILE* f = std::fopen((std::string(dir) + "/" + ggml_get_name(t) + ".f32").c_str(), "wb");
  if (f) {
    std::fwrite(v.data(), sizeof(float), v.size(), f);
    std::fclose(f);
  }
  return true;
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "llamacpp_mtmd: %s\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4)
    return fail(
        "usage: TEXT.gguf MMPROJ.gguf OUT.f32 (--image FILE | --rgb W H FILE) [--threads T]");
  struct Source {
    std::string image, rgb_file;
    int rgb_w = 0, rgb_h = 0;
  };
  std::vector<Source> sources;
  int threads = 2, bench = 0;
  bool flash = false;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--image" && i + 1 < argc) {
      sources.push_back({argv[++i], "", 0, 0});
    } else if (a == "--rgb" && i + 3 < argc) {
      Source src;
      src.rgb_w = std::atoi(argv[++i]);
      src.rgb_h = std::atoi(argv[++i]);
      src.rgb_file = argv[++i];
      sources.push_back(src);
    } else if (a == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (a == "--bench" && i + 1 < argc)
      bench = std::atoi(argv[++i]);
    else if (a == "--flash-attn")
      flash = true;
    else
      return fail("unknown option " + a);
  }
  if (sources.empty()) return fail("give --image or --rgb");
  llama_log_set(quiet, nullptr);
  mtmd_helper_log_set(quiet, nullptr);
  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* model = llama_model_load_from_file(argv[1], mp);
  if (!model) return fail(std::string("cannot load ") + argv[1]);
  mtmd_context_params cp = mtmd_context_params_default();
  cp.use_gpu = false;
  cp.print_timings = false;
  cp.n_threads = threads;
  cp.warmup = false;
  if (std::getenv("QWEN3_MTMD_DUMP")) cp.cb_eval = dump_tensor;
  cp.flash_attn_type = flash ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  mtmd_context* ctx = mtmd_init_from_file(argv[2], model, cp);
  if (!ctx) return fail(std::string("cannot load mmproj ") + argv[2]);

  FILE* f = std::fopen(argv[3], "wb");
  if (!f) return fail(std::string("cannot write ") + argv[3]);
  const int dim = llama_model_n_embd_inp(model);
  std::string counts;
  double median_ms = 0;
  for (size_t s = 0; s < sources.size(); ++s) {
    const Source& src = sources[s];
    mtmd_bitmap* bmp = nullptr;
    if (!src.image.empty()) {
      bmp = mtmd_helper_bitmap_init_from_file(ctx, src.image.c_str(), false,
                                              mtmd_helper_init_opt_default())
                .bitmap;
      if (!bmp) return fail("cannot decode " + src.image);
    } else {
      std::ifstream in(src.rgb_file, std::ios::binary);
      std::vector<unsigned char> px(static_cast<size_t>(std::max(0, src.rgb_w)) *
                                    std::max(0, src.rgb_h) * 3);
      if (px.empty() || !in.read(reinterpret_cast<char*>(px.data()), px.size()))
        return fail("cannot read " + src.rgb_file);
      bmp = mtmd_bitmap_init(src.rgb_w, src.rgb_h, px.data());
    }
    mtmd_input_text text{mtmd_default_marker(), std::strlen(mtmd_default_marker()), false, true};
    mtmd_input_chunks* chunks = mtmd_input_chunks_init();
    const mtmd_bitmap* bitmaps[1] = {bmp};
    if (mtmd_tokenize(ctx, chunks, &text, bitmaps, 1) != 0) return fail("mtmd_tokenize failed");
    const mtmd_input_chunk* chunk = nullptr;
    for (size_t i = 0; i < mtmd_input_chunks_size(chunks); ++i)
      if (mtmd_input_chunk_get_type(mtmd_input_chunks_get(chunks, i)) ==
          MTMD_INPUT_CHUNK_TYPE_IMAGE)
        chunk = mtmd_input_chunks_get(chunks, i);
    if (!chunk) return fail("no image chunk");
    std::vector<double> ms;
    for (int r = 0; r < (s == 0 ? std::max(1, bench) : 1); ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      if (mtmd_encode_chunk(ctx, chunk) != 0) return fail("mtmd_encode_chunk failed");
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    if (s == 0) median_ms = ms[ms.size() / 2];
    const size_t n_tok = mtmd_input_chunk_get_n_tokens(chunk);
    std::fwrite(mtmd_get_output_embd(ctx), sizeof(float), n_tok * static_cast<size_t>(dim), f);
    counts += (counts.empty() ? "" : ",") + std::to_string(n_tok);
    mtmd_input_chunks_free(chunks);
    mtmd_bitmap_free(bmp);
  }
  std::fclose(f);
  if (bench > 0)
    std::printf("{\"n_tokens\":[%s],\"dim\":%d,\"encode_ms\":%.3f}\n", counts.c_str(), dim,
                median_ms);
  else
    std::printf("{\"n_tokens\":[%s],\"dim\":%d}\n", counts.c_str(), dim);
  mtmd_free(ctx);
  llama_model_free(model);
  return 0;
}
