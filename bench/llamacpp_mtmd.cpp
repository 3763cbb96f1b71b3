// llama.cpp's Qwen3-VL image embeddings (libmtmd) for images, written as float32 rows
// (one row of n_embd x (1 + DeepStack layers) per image token, row-major, the images one
// after another), so the vision
// tests can compare our encoder with the reference on the same mmproj GGUF. Built by CMake
// only where the llama.cpp reference build (bench/build_llamacpp.sh's tree) exists.
//
// Usage: llamacpp_mtmd TEXT.gguf MMPROJ.gguf OUT.f32 (--image FILE | --rgb W H FILE.rgb)...
//          [--threads T] [--flash-attn] [--bench N]
//   --image: decoded by libmtmd's helper (stb_image); --rgb: raw 8-bit RGB pixels.
//   --logits IDS_FILE (repeatable): instead of the embeddings, the text model's logits for
//   prompts, each from an empty cache: IDS_FILE holds token ids (commas or spaces) in
//   which each <|image_pad|> id stands for the next image (the images are used in order
//   across the prompts); text runs are decoded with explicit positions, each image through
//   mtmd_helper_eval_chunk_single (libmtmd's M-RoPE positions and DeepStack input). OUT
//   gets, prompt after prompt, the logits rows of every token after its last image
//   (float32, n_vocab each); stdout {"n_tokens":[..per image..],"rows":[..per prompt..],
//   "n_vocab":V}.
//   Prints {"n_tokens":[..per image..],"dim":..} (and with --bench N: "encode_ms", the
//   median of N runs of the first image's mtmd_encode_chunk, "runs_ms" and "runs_cpu_ms",
//   each run's wall and process CPU time) on stdout. Flash attention is off unless --flash-attn
//   (it rounds K and V to F16).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ggml-backend.h"
#include "llama.h"
#include "llamacpp_ids.h"
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

// CPU time of the whole process (all threads), in ms.
double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "llamacpp_mtmd: %s\n", msg.c_str());
  return 2;
}

}  // namespace

struct Source {
  std::string image, rgb_file;
  int rgb_w = 0, rgb_h = 0;
};

mtmd_bitmap* load_bitmap(mtmd_context* ctx, const Source& src) {
  if (!src.image.empty())
    return mtmd_helper_bitmap_init_from_file(ctx, src.image.c_str(), false,
                                             mtmd_helper_init_opt_default())
        .bitmap;
  std::ifstream in(src.rgb_file, std::ios::binary);
  std::vector<unsigned char> px(static_cast<size_t>(std::max(0, src.rgb_w)) *
                                std::max(0, src.rgb_h) * 3);
  if (px.empty() || !in.read(reinterpret_cast<char*>(px.data()), px.size())) return nullptr;
  return mtmd_bitmap_init(src.rgb_w, src.rgb_h, px.data());
}

// --logits: the prompt's text runs and images through llama_decode / libmtmd.
int run_logits(llama_model* model, mtmd_context* mctx, const std::vector<Source>& sources,
               const std::vector<std::string>& ids_files, const char* out_path, int threads,
               bool flash) {
  const llama_vocab* vocab = llama_model_get_vocab(model);
  llama_token pad = -1;
  {
    llama_token t[4];
    const char* pad_text = "<|image_pad|>";
    if (llama_tokenize(vocab, pad_text, static_cast<int32_t>(std::strlen(pad_text)), t, 4, false,
                       true) == 1)
      pad = t[0];
  }
  if (pad < 0) return fail("the vocabulary has no <|image_pad|>");
  const int n_batch = 2048;
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 8192;
  cp.n_batch = n_batch;
  cp.n_ubatch = n_batch;
  cp.n_seq_max = 1;
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.flash_attn_type = flash ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  llama_context* lctx = llama_init_from_model(model, cp);
  if (!lctx) return fail("cannot create the context");
  const int V = llama_vocab_n_tokens(vocab);
  llama_batch batch = llama_batch_init(n_batch, 0, 1);
  size_t next_image = 0;
  std::string counts, row_counts;
  std::vector<float> out;
  for (const std::string& ids_file : ids_files) {
    std::vector<llama_token> ids;
    read_token_ids(ids_file, ids);  // an unreadable file: no ids, said below
    if (ids.empty()) return fail("no token ids in " + ids_file);
    llama_memory_clear(llama_get_memory(lctx), true);
    llama_pos n_past = 0;
    for (size_t i = 0; i < ids.size();) {
      if (ids[i] == pad) {
        if (next_image >= sources.size()) return fail("more <|image_pad|> ids than images");
        mtmd_bitmap* bmp = load_bitmap(mctx, sources[next_image++]);
        if (!bmp) return fail("cannot load an image");
        mtmd_input_text mt{mtmd_default_marker(), std::strlen(mtmd_default_marker()), false, true};
        mtmd_input_chunks* chunks = mtmd_input_chunks_init();
        const mtmd_bitmap* bitmaps[1] = {bmp};
        if (mtmd_tokenize(mctx, chunks, &mt, bitmaps, 1) != 0) return fail("mtmd_tokenize failed");
        for (size_t c = 0; c < mtmd_input_chunks_size(chunks); ++c) {
          const mtmd_input_chunk* chunk = mtmd_input_chunks_get(chunks, c);
          if (mtmd_input_chunk_get_type(chunk) != MTMD_INPUT_CHUNK_TYPE_IMAGE) continue;
          llama_pos np = 0;
          if (mtmd_helper_eval_chunk_single(mctx, lctx, chunk, n_past, 0, n_batch, false, &np) != 0)
            return fail("mtmd_helper_eval_chunk_single failed");
          n_past = np;
          counts +=
              (counts.empty() ? "" : ",") + std::to_string(mtmd_input_chunk_get_n_tokens(chunk));
        }
        mtmd_input_chunks_free(chunks);
        mtmd_bitmap_free(bmp);
        ++i;
        continue;
      }
      size_t j = i;
      while (j < ids.size() && ids[j] != pad) ++j;
      const bool last_run = j == ids.size();
      const int n = static_cast<int>(j - i);
      if (n > n_batch) return fail("text run longer than the batch");
      batch.n_tokens = n;
      for (int k = 0; k < n; ++k) {
        batch.token[k] = ids[i + k];
        batch.pos[k] = n_past + k;
        batch.n_seq_id[k] = 1;
        batch.seq_id[k][0] = 0;
        batch.logits[k] = last_run;
      }
      if (llama_decode(lctx, batch) != 0) return fail("llama_decode failed");
      if (last_run) {
        row_counts += (row_counts.empty() ? "" : ",") + std::to_string(n);
        for (int k = 0; k < n; ++k) {
          const float* r = llama_get_logits_ith(lctx, k);
          out.insert(out.end(), r, r + V);
        }
      }
      n_past += n;
      i = j;
    }
  }
  if (next_image != sources.size()) return fail("fewer <|image_pad|> ids than images");
  FILE* f = std::fopen(out_path, "wb");
  if (!f || std::fwrite(out.data(), sizeof(float), out.size(), f) != out.size())
    return fail(std::string("cannot write ") + out_path);
  std::fclose(f);
  std::printf("{\"n_tokens\":[%s],\"rows\":[%s],\"n_vocab\":%d}\n", counts.c_str(),
              row_counts.c_str(), V);
  llama_batch_free(batch);
  llama_free(lctx);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 4)
    return fail(
        "usage: TEXT.gguf MMPROJ.gguf OUT.f32 (--image FILE | --rgb W H FILE) [--threads T] "
        "[--logits IDS_FILE]");
  std::vector<Source> sources;
  int threads = 2, bench = 0;
  bool flash = false;
  std::vector<std::string> logits_ids;
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
    else if (a == "--logits" && i + 1 < argc)
      logits_ids.push_back(argv[++i]);
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

  if (!logits_ids.empty()) {
    const int rc = run_logits(model, ctx, sources, logits_ids, argv[3], threads, flash);
    mtmd_free(ctx);
    llama_model_free(model);
    return rc;
  }

  FILE* f = std::fopen(argv[3], "wb");
  if (!f) return fail(std::string("cannot write ") + argv[3]);
  const int dim = llama_model_n_embd_inp(model);
  std::string counts;
  double median_ms = 0;
  std::string all_ms, all_cpu;
  for (size_t s = 0; s < sources.size(); ++s) {
    const Source& src = sources[s];
    mtmd_bitmap* bmp = load_bitmap(ctx, src);
    if (!bmp) return fail("cannot load " + (src.image.empty() ? src.rgb_file : src.image));
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
    std::vector<double> ms, cpu;
    for (int r = 0; r < (s == 0 ? std::max(1, bench) : 1); ++r) {
      const double c0 = process_cpu_ms();
      const auto t0 = std::chrono::steady_clock::now();
      if (mtmd_encode_chunk(ctx, chunk) != 0) return fail("mtmd_encode_chunk failed");
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      cpu.push_back(process_cpu_ms() - c0);
    }
    if (s == 0) {
      for (size_t i = 0; i < ms.size(); ++i) {
        all_ms += (all_ms.empty() ? "" : ",") + std::to_string(ms[i]);
        all_cpu += (all_cpu.empty() ? "" : ",") + std::to_string(cpu[i]);
      }
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
    std::printf(
        "{\"n_tokens\":[%s],\"dim\":%d,\"encode_ms\":%.3f,\"runs_ms\":[%s],"
        "\"runs_cpu_ms\":[%s]}\n",
        counts.c_str(), dim, median_ms, all_ms.c_str(), all_cpu.c_str());
  else
    std::printf("{\"n_tokens\":[%s],\"dim\":%d}\n", counts.c_str(), dim);
  mtmd_free(ctx);
  llama_model_free(model);
  return 0;
}
