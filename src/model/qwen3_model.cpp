#include "model/qwen3_model.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "gguf/gguf_reader.h"
#include "kernels/quant.h"
#include "kernels/rows8.h"
#include "kernels/thread_pool.h"
#include "model/gguf_tensor_source.h"
#include "model/hf_model_loader.h"
#include "model/load_progress.h"
#include "model/model_weights.h"
#include "text/tokenizer.h"

namespace qwen3 {

namespace {

std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

// Looks tensors up in a source and checks them against the expected shapes.
struct Binder {
  const TensorSource& src;
  std::vector<std::vector<float>>& owned;

  TensorView get(const std::string& name, const std::vector<int64_t>& dims) const {
    TensorView v;
    if (!src.find(name, &v)) throw std::runtime_error(src.describe() + ": missing tensor " + name);
    if (v.dims != dims)
      throw std::runtime_error(src.describe() + ": tensor " + name + " has shape " +
                               dims_str(v.dims) + ", expected " + dims_str(dims));
    return v;
  }

  WeightMatrix matrix(const std::string& name, int64_t rows, int64_t cols) const {
    return matrices(name, rows, cols, 0).front();
  }

  // n_mat > 0: a 3-D tensor [n_mat][rows][cols] (llama.cpp's ffn_*_exps), one matrix per
  // slice. n_mat == 0: one 2-D matrix.
  std::vector<WeightMatrix> matrices(const std::string& name, int64_t rows, int64_t cols,
                                     int64_t n_mat) const {
    TensorView v = n_mat > 0 ? get(name, {cols, rows, n_mat}) : get(name, {cols, rows});
    const int64_t n = std::max<int64_t>(1, n_mat);
    const auto& ti = ggml_type_info(v.type);
    if (!kernels_support(v.type))
      throw std::runtime_error(src.describe() + ": tensor " + name + " has type " +
                               std::string(ti.name) + ", which this runtime does not support");
    if (cols % ti.block_size != 0)
      throw std::runtime_error(src.describe() + ": tensor " + name + " row length " +
                               std::to_string(cols) + " is not a multiple of the " +
                               std::string(ti.name) + " block size");
    const size_t mat_bytes = ggml_row_size(v.type, cols) * static_cast<size_t>(rows);
    if (v.nbytes != mat_bytes * static_cast<size_t>(n))
      throw std::runtime_error(src.describe() + ": tensor " + name + " has " +
                               std::to_string(v.nbytes) + " bytes, expected " +
                               std::to_string(mat_bytes * static_cast<size_t>(n)));
    std::vector<WeightMatrix> out;
    for (int64_t e = 0; e < n; ++e)
      out.push_back(
          WeightMatrix{v.type, rows, cols, static_cast<const uint8_t*>(v.data) + e * mat_bytes});
    return out;
  }

  // The experts of one kind ("gate", "up", "down") of block p: llama.cpp's 3-D
  // blk.N.ffn_gate_exps.weight, or one blk.N.ffn_gate.E.weight per expert (a Hugging Face
  // folder, whose experts are separate tensors).
  std::vector<WeightMatrix> experts(const std::string& p, const std::string& kind, int64_t rows,
                                    int64_t cols, int n_expert) const {
    TensorView v;
    if (src.find(p + "ffn_" + kind + "_exps.weight", &v))
      return matrices(p + "ffn_" + kind + "_exps.weight", rows, cols, n_expert);
    if (!src.find(p + "ffn_" + kind + ".0.weight", &v))
      throw std::runtime_error(src.describe() + ": missing tensor " + p + "ffn_" + kind +
                               "_exps.weight");
    std::vector<WeightMatrix> out;
    for (int e = 0; e < n_expert; ++e)
      out.push_back(matrix(p + "ffn_" + kind + "." + std::to_string(e) + ".weight", rows, cols));
    return out;
  }

  // Norm weights: used as F32; F16/BF16 (e.g. from safetensors) are converted once.
  const float* vector(const std::string& name, int64_t n) const {
    TensorView v = get(name, {n});
    if (v.type == GgmlType::F32) return static_cast<const float*>(v.data);
    if (v.type != GgmlType::F16 && v.type != GgmlType::BF16)
      throw std::runtime_error(src.describe() + ": norm tensor " + name + " has type " +
                               std::string(ggml_type_info(v.type).name) +
                               " (expected F32, F16 or BF16)");
    owned.emplace_back(static_cast<size_t>(n));
    dequantize_row(v.type, v.data, owned.back().data(), n);
    return owned.back().data();
  }
};

// Bytes of memory the system can give now: MemAvailable (free memory plus reclaimable
// page cache, which includes the model file's own pages: the loader releases them as it
// copies), or 0 if unknown.
size_t available_memory() {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  size_t kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "MemAvailable: %zu kB", &kb) == 1) break;
  std::fclose(f);
  return kb << 10;
}

// Bytes of expert matrices the loader may copy into anonymous memory (the rows8 layout
// runs a prompt several times faster than the plain file layout):
// QWEN3_EXPERT_REPACK_MB if set; else the memory available now minus `other` (the other
// matrices still to be copied) and a reserve for the KV cache, the system and other
// programs of max(2 GiB, 1/8 of the physical memory). A 30B-A3B Q4_K_M (16.3 GiB of
// experts) is copied on a 24 GB machine with nothing else running, and read in place
// from the mapped file (page cache: shared, evictable) where memory is short.
size_t expert_repack_budget(size_t other) {
  if (const char* env = std::getenv("QWEN3_EXPERT_REPACK_MB"); env && *env)
    return static_cast<size_t>(std::strtoull(env, nullptr, 10)) << 20;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  const size_t phys = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page)
                                            : size_t(4) << 30;
  const size_t avail = std::min(available_memory(), phys);
  const size_t reserve = std::max(size_t(2) << 30, phys / 8) + other;
  return avail > reserve ? avail - reserve : 0;
}

// Anonymous memory for repacked weights, in transparent huge pages where the system
// allows it (one fault per 2 MiB instead of per 4 KiB while it is first written). With a
// pool, every page is faulted in first by MADV_POPULATE_WRITE calls (Linux 5.14+) spread
// over its threads: a page fault is costly in a virtual machine, the kernel's zeroing of
// fresh pages is most of that first touch, and the copy then runs without any fault.
// The block starts on a 2 MiB boundary (`*data`); the returned pointer owns it.
std::unique_ptr<uint8_t[]> alloc_weights(size_t n, uint8_t** data, ThreadPool* prefault = nullptr) {
  const uintptr_t huge = uintptr_t(2) << 20;
  std::unique_ptr<uint8_t[]> p(new uint8_t[n + huge]);
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(p.get()) + huge - 1) / huge * huge;
  *data = reinterpret_cast<uint8_t*>(lo);
  const uintptr_t hi = (lo + n + huge - 1) / huge * huge;
#ifdef MADV_HUGEPAGE
  madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
  if (prefault) {
    const auto chunks = static_cast<int64_t>((hi - lo) / huge);
    prefault->parallel_for(chunks, [&](int64_t b, int64_t e, int) {
      madvise(reinterpret_cast<void*>(lo + static_cast<uintptr_t>(b) * huge),
              static_cast<size_t>(e - b) * huge, MADV_POPULATE_WRITE);
    });
  }
#else
  (void)prefault;
#endif
  return p;
}

// Maps the file pages of [data, data + n) in one call (MADV_POPULATE_READ, Linux 5.14+)
// instead of a fault per 64 KiB; a no-op where the kernel lacks it.
void populate(const void* data, size_t n) {
#ifdef MADV_POPULATE_READ
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t lo = reinterpret_cast<uintptr_t>(data) / page * page;
  const uintptr_t hi = reinterpret_cast<uintptr_t>(data) + n;
  madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_POPULATE_READ);
#else
  (void)data;
  (void)n;
#endif
}

bool is_directory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Qwen3Model::Qwen3Model() = default;

std::shared_ptr<Qwen3Model> Qwen3Model::load(const std::string& path,
                                             const ModelLoadOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  if (is_directory(path)) {  // a Hugging Face folder (config.json + *.safetensors)
    auto model = hf::load_hf_model(path, opts);
    model->load_ms_ =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return model;
  }
  if (opts.quantize)
    throw std::invalid_argument(path +
                                ": quantizing at load applies to Hugging Face folders only "
                                "(a GGUF file keeps its stored types)");
  auto file = opts.opened_gguf ? opts.opened_gguf
                               : std::make_shared<const gguf::GgufFile>(gguf::GgufFile::open(path));
  Qwen3Config cfg = Qwen3Config::from_gguf(*file);
  auto tokenizer = std::make_shared<const Tokenizer>(Tokenizer::from_gguf(*file));
  if (opts.on_gguf_metadata) opts.on_gguf_metadata(*file);
  file->release_metadata();
#ifdef __GLIBC__
  malloc_trim(0);  // the tokenizer's construction garbage: ~10 MB of small blocks
#endif
  auto model = from_source(cfg, tokenizer, std::make_shared<GgufTensorSource>(file), opts);
  model->load_ms_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return model;
}

std::shared_ptr<Qwen3Model> Qwen3Model::from_source(const Qwen3Config& config,
                                                    std::shared_ptr<const Tokenizer> tokenizer,
                                                    std::shared_ptr<const TensorSource> source,
                                                    const ModelLoadOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  config.validate();
  if (!tokenizer) throw std::invalid_argument("Qwen3Model::from_source: no tokenizer");
  if (!source) throw std::invalid_argument("Qwen3Model::from_source: no tensor source");
  std::shared_ptr<Qwen3Model> m(new Qwen3Model());
  m->config_ = config;
  m->tokenizer_ = std::move(tokenizer);
  m->source_ = std::move(source);
  m->n_threads_ = opts.n_threads > 0 ? opts.n_threads : physical_core_count();
  m->weights_ = std::make_shared<ModelWeights>();

  const Qwen3Config& c = m->config_;
  Binder b{*m->source_, m->owned_f32_};
  m->owned_f32_.reserve(static_cast<size_t>(c.n_layers) * 4 + 2);  // keep pointers stable
  ModelWeights& w = *m->weights_;
  w.token_embd = b.matrix("token_embd.weight", c.n_vocab, c.n_embd);
  w.output_norm = b.vector("output_norm.weight", c.n_embd);
  TensorView out;
  if (m->source_->find("output.weight", &out)) {
    w.output = b.matrix("output.weight", c.n_vocab, c.n_embd);
    m->config_.tied_embeddings = false;
  } else if (!c.tied_embeddings) {
    throw std::runtime_error(m->source_->describe() +
                             ": missing tensor output.weight (the config says the embedding is "
                             "not tied)");
  } else {
    w.output = w.token_embd;
  }
  w.layers.resize(static_cast<size_t>(c.n_layers));
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    l.attn_norm = b.vector(p + "attn_norm.weight", c.n_embd);
    l.wq = b.matrix(p + "attn_q.weight", c.q_dim(), c.n_embd);
    l.wk = b.matrix(p + "attn_k.weight", c.kv_dim(), c.n_embd);
    l.wv = b.matrix(p + "attn_v.weight", c.kv_dim(), c.n_embd);
    l.q_norm = b.vector(p + "attn_q_norm.weight", c.head_dim);
    l.k_norm = b.vector(p + "attn_k_norm.weight", c.head_dim);
    l.wo = b.matrix(p + "attn_output.weight", c.n_embd, c.q_dim());
    l.ffn_norm = b.vector(p + "ffn_norm.weight", c.n_embd);
    if (c.is_moe()) {
      l.router = b.matrix(p + "ffn_gate_inp.weight", c.n_expert, c.n_embd);
      l.exp_gate = b.experts(p, "gate", c.n_ff_exp, c.n_embd, c.n_expert);
      l.exp_up = b.experts(p, "up", c.n_ff_exp, c.n_embd, c.n_expert);
      l.exp_down = b.experts(p, "down", c.n_embd, c.n_ff_exp, c.n_expert);
    } else {
      l.w_gate = b.matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd);
      l.w_up = b.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd);
      l.w_down = b.matrix(p + "ffn_down.weight", c.n_embd, c.n_ff);
    }
  }
  // Extra blocks mean the metadata and the tensors disagree.
  TensorView extra;
  if (m->source_->find("blk." + std::to_string(c.n_layers) + ".attn_norm.weight", &extra))
    throw std::runtime_error(m->source_->describe() + ": holds more blocks than block_count " +
                             std::to_string(c.n_layers));
  const char* no_repack = std::getenv("QWEN3_NO_REPACK");
  if (opts.repack && !(no_repack && *no_repack && std::string(no_repack) != "0"))
    m->repack_matrices();
  m->load_ms_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

void Qwen3Model::repack_matrices() {
  ModelWeights& w = *weights_;
  ThreadPool pool(n_threads_);
  // The dense matrices go into one block, its pages faulted in by one call; one matrix
  // at a time is copied, dropping the mapped pages of each as it is, so peak memory stays
  // near the model size rather than twice it.
  uint8_t* arena = nullptr;
  auto repack = [&](WeightMatrix& W) {
    if (!prefers_rows8(W)) return;
    const size_t ws = ggml_row_size(W.type, W.cols), gs = rows8_group_size(W.type, W.cols);
    uint8_t* dst = arena;
    arena += rows8_bytes(W);
    // Slices of about 4 MiB, each mapped in one call and released once copied: even the
    // 600 MB lm_head of an 8B model never sits in memory twice.
    const int64_t slice = std::max<int64_t>(8, static_cast<int64_t>((4u << 20) / ws) / 8 * 8);
    for (int64_t r0 = 0; r0 < W.rows; r0 += slice) {
      const int64_t n = std::min(slice, W.rows - r0);
      const WeightMatrix part{W.type, n, W.cols, static_cast<const uint8_t*>(W.data) + r0 * ws};
      populate(part.data, ws * n);
      to_rows8(part, dst + r0 / 8 * gs, pool);
      source_->release(part.data, ws * n);
    }
    W = WeightMatrix{W.type, W.rows, W.cols, dst, WeightLayout::Rows8};
  };
  // Experts are repacked only while they fit the budget (expert_repack_budget).
  size_t expert_bytes = 0, other_bytes = 0;
  for (const LayerWeights& l : w.layers) {
    for (const auto* v : {&l.exp_gate, &l.exp_up, &l.exp_down})
      for (const WeightMatrix& W : *v)
        if (prefers_rows8(W)) expert_bytes += rows8_bytes(W);
    for (const WeightMatrix* W : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
      if (W->data && prefers_rows8(*W)) other_bytes += rows8_bytes(*W);
  }
  if (prefers_rows8(w.output)) other_bytes += rows8_bytes(w.output);
  experts_repacked_ = config_.is_moe() && expert_bytes <= expert_repack_budget(other_bytes);
  if (other_bytes > 0) repacked_.push_back(alloc_weights(other_bytes, &arena, &pool));
  // One layer's experts: one allocation, the matrices spread over the threads (each
  // small matrix packed by one thread), their file pages mapped in one call beforehand
  // and released as each is copied.
  auto repack_experts = [&](LayerWeights& l) {
    std::vector<WeightMatrix*> todo;
    size_t bytes = 0;
    for (auto* v : {&l.exp_gate, &l.exp_up, &l.exp_down})
      for (WeightMatrix& W : *v)
        if (prefers_rows8(W)) {
          todo.push_back(&W);
          bytes += rows8_bytes(W);
        }
    if (todo.empty()) return;
    uint8_t* dst = nullptr;
    repacked_.push_back(alloc_weights(bytes, &dst));
    std::vector<uint8_t*> at(todo.size());
    for (size_t i = 0; i < todo.size(); ++i) {
      at[i] = dst;
      dst += rows8_bytes(*todo[i]);
      populate(todo[i]->data,
               ggml_row_size(todo[i]->type, todo[i]->cols) * static_cast<size_t>(todo[i]->rows));
    }
    pool.parallel_for(static_cast<int64_t>(todo.size()), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) {
        WeightMatrix& W = *todo[static_cast<size_t>(i)];
        const WeightMatrix plain = W;
        W = to_rows8(plain, at[static_cast<size_t>(i)], pool);  // nested: runs on this thread
        source_->release(plain.data,
                         ggml_row_size(plain.type, plain.cols) * static_cast<size_t>(plain.rows));
      }
    });
  };
  // Progress per layer (load_progress.h); the output counts as one step.
  const std::size_t steps = w.layers.size() + 1;
  std::size_t step = 0;
  for (LayerWeights& l : w.layers) {
    report_load_progress("repacking", step++, steps);
    for (WeightMatrix* W : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
      if (W->data) repack(*W);
    if (experts_repacked_) repack_experts(l);
  }
  // A tied lm_head shares token_embd: the lookup then reads the repacked copy too, so
  // the mapped embedding is never paged back in (a page-cache folio per looked-up row
  // would otherwise add up to the whole embedding again).
  const bool tied = w.output.data == w.token_embd.data;
  report_load_progress("repacking", step++, steps);
  repack(w.output);
  if (tied) w.token_embd = w.output;
  report_load_progress("repacking", steps, steps);
}

}  // namespace qwen3
