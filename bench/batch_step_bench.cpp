// Where the time of a batched decode step goes (issue 11's profile). Not a Google
// Benchmark: it prints tables.
//   1. BatchForward: one decode step of B = 1, 2, 4, 8 sequences (each with `past` cached
//      positions, as a serve request in the middle of its reply), split into phases
//      (embedding, per-token work, the Q/K/V, output and feed-forward matmuls, attention,
//      lm_head; BatchForward::set_profile), per step and relative to B = 1.
//   1b. A mixed step: B decode tokens plus a prompt chunk of P tokens of a new request
//      (positions 0..P-1), as the engine builds when a request arrives while others
//      decode; per step and the marginal cost of one prompt token against the pure
//      decode step (B = 0: a prefill chunk alone, the single-sequence cost per token).
//   2. The sampler over one logits row (greedy and the model card's sampling).
//   3. BatchEngine: B threads each running a prompt then `gen` greedy decode steps the way
//      a Generator does (eval, sample, eval ...): wall time per step against the engine's
//      own split (forward / waiting for sequences still sampling / scheduling).
// Run: build/batch_step_bench [model.gguf] [threads] [past] [gen] [block] [parts] [kv]
// (default ~/.cache/qwen3-bench/models/qwen3-0.6b-q4_0.gguf, 2 threads, 160 positions, 64
// tokens, KV blocks of 16 positions; parts: "mixed" = part 1b only, "engine" = part 3
// only, "stepsB" = part 1 for B sequences alone over 400 steps (to profile, e.g.
// `perf record ... steps4`), "matmuls" = the step's matmuls alone on the model's weights (what part
// 1's matmul columns cost with nothing between them), "fuse" = fused vs unfused steps and the
// pool's hand-off cost, "handoff" = that cost alone, any other 6th argument = part 1 only, none =
// all; kv: the KV cache type, f16 (default), q8_0 or f32, e.g.
// `... 2 160 64 16 part1 q8_0`). With 1 thread the phases are CPU time of the thread
// (meaningful on a busy machine), else wall time.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/batch_engine.h"
#include "engine/sampler.h"
#include "kernels/matmul.h"
#include "model/batch_forward.h"
#include "model/kv_cache.h"
#include "model/model_weights.h"
#include "model/qwen3_model.h"

namespace {

using Clock = std::chrono::steady_clock;
using qwen3::BatchForward;
using qwen3::BatchToken;
using qwen3::ForwardProfile;
using qwen3::KvPool;
using qwen3::KvSequence;
using qwen3::Qwen3Model;

qwen3::KvType g_kv = qwen3::KvType::F16;  // the 7th argument

double cpu_ms() {  // this thread's CPU time
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

double wall_ms() {
  return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
}

std::int32_t token(int seq, int i) {  // distinct ordinary token ids per sequence
  return static_cast<std::int32_t>(1000 + (seq * 7919 + i * 104729) % 50000);
}

// Runs the first `n_seqs` of `seqs` through `past` prompt positions each, 64 tokens a
// chunk (steps over all of `ptrs`, as the engine's are), so they stand as requests with
// that many cached positions.
void fill_pasts(BatchForward& fwd, std::vector<std::unique_ptr<KvSequence>>& seqs,
                std::vector<KvSequence*>& ptrs, int n_seqs, int past) {
  std::vector<BatchToken> batch(64);
  std::vector<std::int32_t> ids(64);
  for (int s = 0; s < n_seqs; ++s)
    for (int p = 0; p < past; p += 64) {
      const int n = std::min(64, past - p);
      seqs[static_cast<std::size_t>(s)]->reserve(n);
      for (int i = 0; i < n; ++i) {
        ids[static_cast<std::size_t>(i)] = token(s, p + i);
        batch[static_cast<std::size_t>(i)] = {ids[static_cast<std::size_t>(i)], s, p + i, false};
      }
      fwd.forward(batch.data(), n, ptrs.data(), static_cast<int>(ptrs.size()), nullptr);
      seqs[static_cast<std::size_t>(s)]->commit(ids.data(), n);
    }
}

// One decode step: the next token of each of the first B sequences, all in one batch.
void decode_step(BatchForward& fwd, std::vector<std::unique_ptr<KvSequence>>& seqs,
                 std::vector<KvSequence*>& ptrs, int B, float* logits) {
  BatchToken batch[64];
  std::int32_t ids[64];
  for (int s = 0; s < B; ++s) {
    KvSequence& q = *seqs[static_cast<std::size_t>(s)];
    q.reserve(1);
    ids[s] = token(s, q.n_past());
    batch[s] = {ids[s], s, q.n_past(), true};
  }
  fwd.forward(batch, B, ptrs.data(), B, logits);
  for (int s = 0; s < B; ++s) seqs[static_cast<std::size_t>(s)]->commit(&ids[s], 1);
}

void forward_profile(const std::shared_ptr<const Qwen3Model>& model, int threads, int past,
                     int block, const std::vector<int>& sizes = {1, 2, 4, 8}, int steps = 24) {
  const auto& c = model->config();
  const int max_b = 8, warm = 4;
  BatchForward fwd(model, 64, past + steps + warm + 16, threads);
  std::vector<float> logits(static_cast<std::size_t>(max_b) * c.n_vocab);
  std::printf(
      "## 1. BatchForward decode step, %d cached positions in blocks of %d, %d threads (ms %s "
      "per step)\n",
      past, block, threads, threads == 1 ? "of CPU time" : "of wall time");
  std::printf("%2s | %7s %6s | %6s %6s %6s %6s %6s %6s %6s | %8s\n", "B", "step", "x B=1", "embed",
              "token", "qkv", "attn", "wo", "ffn", "lm_head", "matmuls");
  double one = 0;
  for (int B : sizes) {
    KvPool pool(c.n_layers, c.n_head_kv, c.head_dim, block, B * ((past + steps + warm) / block + 2),
                g_kv);
    std::vector<std::unique_ptr<KvSequence>> seqs;
    std::vector<KvSequence*> ptrs;
    for (int s = 0; s < B; ++s) {
      seqs.push_back(std::make_unique<KvSequence>(pool, past + steps + warm + 16, false));
      ptrs.push_back(seqs.back().get());
    }
    fill_pasts(fwd, seqs, ptrs, B, past);  // the prompts
    ForwardProfile prof;
    prof.thread_cpu = threads == 1;  // CPU time: robust on a busy machine
    for (int k = 0; k < warm + steps; ++k) {
      if (k == warm) fwd.set_profile(&prof);
      decode_step(fwd, seqs, ptrs, B, logits.data());
    }
    fwd.set_profile(nullptr);
    const double k = 1.0 / static_cast<double>(prof.calls);
    const double step = prof.total * k;
    if (B == sizes[0]) one = step;
    std::printf("%2d | %7.2f %6.2f | %6.3f %6.3f %6.2f %6.3f %6.2f %6.2f %6.2f | %8.2f\n", B, step,
                step / one, prof.embed * k, prof.per_token * k, prof.qkv * k, prof.attention * k,
                prof.wo * k, prof.ffn * k, prof.lm_head * k,
                (prof.qkv + prof.wo + prof.ffn + prof.lm_head) * k);
    for (auto& q : seqs) q.reset();
  }
}

void handoff_cost(int threads);

// Part "fuse": decode steps with the work between the matmuls fused into their passes
// (the default) and as separate per-token passes (BatchForward::set_fuse(false)),
// alternating in rounds so that both see the same load; medians of the rounds. Then the
// cost of one hand-off of the pool: an empty parallel_for with the workers spinning (as
// between the matmuls of a step) and after rest() (workers asleep: a futex wake).
void fuse_profile(const std::shared_ptr<const Qwen3Model>& model, int threads, int past,
                  int block) {
  const auto& c = model->config();
  const int rounds = 9, steps = 8;
  const int cap = past + rounds * 2 * steps + 16;
  BatchForward fwd(model, 64, cap, threads);
  std::vector<float> logits(static_cast<std::size_t>(8) * c.n_vocab);
  std::printf("## fuse: decode step ms (wall), fused vs per-token passes, %d threads, %d rounds\n",
              threads, rounds);
  std::printf("%2s | %8s %8s %7s\n", "B", "fused", "passes", "saved%");
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  for (int B : {1, 2, 4, 8}) {
    KvPool pool(c.n_layers, c.n_head_kv, c.head_dim, block, B * (cap / block + 2), g_kv);
    std::vector<std::unique_ptr<KvSequence>> seqs;
    std::vector<KvSequence*> ptrs;
    for (int s = 0; s < B; ++s) {
      seqs.push_back(std::make_unique<KvSequence>(pool, cap, false));
      ptrs.push_back(seqs.back().get());
    }
    fill_pasts(fwd, seqs, ptrs, B, past);
    auto run = [&](bool fuse) {
      fwd.set_fuse(fuse);
      const double t0 = wall_ms();
      for (int k = 0; k < steps; ++k) decode_step(fwd, seqs, ptrs, B, logits.data());
      return (wall_ms() - t0) / steps;
    };
    run(true);  // warm
    std::vector<double> fused, passes;
    for (int r = 0; r < rounds; ++r) {
      fused.push_back(run(true));
      passes.push_back(run(false));
    }
    const double f = median(fused), p = median(passes);
    std::printf("%2d | %8.3f %8.3f %6.1f%%\n", B, f, p, 100.0 * (p - f) / p);
    std::fflush(stdout);
    fwd.set_fuse(true);
  }
  handoff_cost(threads);
}

// The pool's hand-off latency (part "handoff", also the end of part "fuse").
void handoff_cost(int threads) {
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  qwen3::ThreadPool tp(threads);
  const int n_calls = 500;
  // Each piece waits until every piece has started: the call measures how long the
  // workers take to pick a job up (the caller cannot run the pieces alone).
  std::atomic<int> started{0};
  auto empty = [&](int64_t, int64_t, int) {
    started.fetch_add(1);
    while (started.load() % threads != 0) {
    }
  };
  // Start the workers with a job the caller may finish alone (a worker that starts after
  // a job was published waits for the next one), and let them reach their idle loop.
  tp.parallel_for(threads, [](int64_t, int64_t, int) {});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  tp.parallel_for(threads, empty);
  std::vector<double> spin, wake;
  for (int r = 0; r < 5; ++r) {
    const double t0 = wall_ms();
    for (int i = 0; i < n_calls; ++i) tp.parallel_for(threads, empty);
    spin.push_back((wall_ms() - t0) * 1e3 / n_calls);
    double w = 0;
    for (int i = 0; i < 50; ++i) {
      tp.rest();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      const double t1 = wall_ms();
      tp.parallel_for(threads, empty);
      w += wall_ms() - t1;
    }
    wake.push_back(w * 1e3 / 50);
  }
  std::printf(
      "hand-off (parallel_for of pieces that wait for each other, %d threads): %.2f us spinning, "
      "%.2f us after rest()\n",
      threads, median(spin), median(wake));
}

// A step of B decode tokens (sequences 0..B-1 with `past` cached positions each) plus a
// prompt chunk of P tokens of sequence B at positions 0..P-1 (its last token wants
// logits, as the chunk that ends a prompt).
void mixed_profile(const std::shared_ptr<const Qwen3Model>& model, int threads, int past,
                   int block) {
  const auto& c = model->config();
  const int max_b = 8, max_p = 128, warm = 2, steps = 8;
  const int ctx = past + (warm + steps) * 8 + 16;
  BatchForward fwd(model, max_b + max_p, std::max(ctx, max_p), threads);
  std::vector<float> logits(static_cast<std::size_t>(max_b + 1) * c.n_vocab);
  std::printf(
      "\n## 1b. Mixed step: B decode tokens (%d cached positions) + a P-token prompt chunk, %d "
      "threads (ms %s per step)\n",
      past, threads, threads == 1 ? "of CPU time" : "of wall time");
  std::printf(
      "step: unprofiled; +prof: what the profiled steps took more (its clock reads, "
      "charged to the phases)\n");
  std::printf("%2s %4s | %7s %8s %6s | %6s %6s %6s %6s %6s %6s %6s\n", "B", "P", "step", "ms/ptok",
              "+prof", "embed", "token", "qkv", "attn", "wo", "ffn", "lm_head");
  for (int B : {0, 4, 8}) {
    KvPool pool(c.n_layers, c.n_head_kv, c.head_dim, block,
                (B + 1) * ((std::max(ctx, max_p)) / block + 2), g_kv);
    std::vector<std::unique_ptr<KvSequence>> seqs;
    std::vector<KvSequence*> ptrs;
    for (int s = 0; s <= B; ++s) {
      seqs.push_back(std::make_unique<KvSequence>(pool, std::max(ctx, max_p), false));
      ptrs.push_back(seqs.back().get());
    }
    std::vector<BatchToken> batch(static_cast<std::size_t>(max_b + max_p));
    std::vector<std::int32_t> ids(static_cast<std::size_t>(max_b + max_p));
    fill_pasts(fwd, seqs, ptrs, B, past);  // the decode sequences' pasts
    double base = 0;
    for (int P : {0, 1, 4, 5, 16, 32, 64, 128}) {
      if (B == 0 && P == 0) continue;
      ForwardProfile prof;
      prof.thread_cpu = threads == 1;
      KvSequence& ps = *seqs[static_cast<std::size_t>(B)];
      // Pass 0 profiled (phases), pass 1 not: the step's own time, without the profiler's
      // clock reads (~8 per layer; a thread CPU clock read is a system call of ~1-2 us).
      double plain = 0;
      for (int pass = 0; pass < 2; ++pass) {
        for (int k = 0; k < warm + steps; ++k) {
          if (k == warm && pass == 0) fwd.set_profile(&prof);
          int n = 0;
          for (int s = 0; s < B; ++s) {
            KvSequence& q = *seqs[static_cast<std::size_t>(s)];
            q.reserve(1);
            ids[static_cast<std::size_t>(n)] = token(s, q.n_past());
            batch[static_cast<std::size_t>(n)] = {ids[static_cast<std::size_t>(n)], s, q.n_past(),
                                                  true};
            ++n;
          }
          ps.truncate(0);
          ps.reserve(P);
          for (int i = 0; i < P; ++i, ++n) {
            ids[static_cast<std::size_t>(n)] = token(B, i);
            batch[static_cast<std::size_t>(n)] = {ids[static_cast<std::size_t>(n)], B, i,
                                                  i == P - 1};
          }
          const double t0 = threads == 1 ? cpu_ms() : wall_ms();
          fwd.forward(batch.data(), n, ptrs.data(), B + 1, logits.data());
          if (pass == 1 && k >= warm) plain += (threads == 1 ? cpu_ms() : wall_ms()) - t0;
          for (int s = 0; s < B; ++s)
            seqs[static_cast<std::size_t>(s)]->commit(&ids[static_cast<std::size_t>(s)], 1);
          ps.commit(&ids[static_cast<std::size_t>(B)], P);
        }
        fwd.set_profile(nullptr);
        for (int s = 0; s < B; ++s) seqs[static_cast<std::size_t>(s)]->truncate(past);
      }
      const double k = 1.0 / static_cast<double>(prof.calls);
      const double step = plain / steps;
      if (P == 0) base = step;
      const double per = P > 0 ? (step - base) / P : 0.0;
      std::printf("%2d %4d | %7.2f %8.3f %6.2f | %6.3f %6.3f %6.2f %6.3f %6.2f %6.2f %6.2f\n", B, P,
                  step, per, prof.total * k - step, prof.embed * k, prof.per_token * k,
                  prof.qkv * k, prof.attention * k, prof.wo * k, prof.ffn * k, prof.lm_head * k);
    }
  }
}

void sampler_cost(int n_vocab) {
  std::vector<float> logits(static_cast<std::size_t>(n_vocab));
  std::uint64_t x = 88172645463325252ull;
  for (float& l : logits) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    l = static_cast<float>(x % 20000) / 1000.0f;
  }
  auto time = [&](const char* name, qwen3::engine::SamplerParams p) {
    qwen3::engine::Sampler s(p);
    for (int i = 0; i < 64; ++i) s.accept(i * 37);
    const int reps = 200;
    const double t0 = cpu_ms();
    std::int64_t sum = 0;
    for (int i = 0; i < reps; ++i) sum += s.sample(logits.data(), n_vocab);
    std::printf("%-34s %7.3f ms%s\n", name, (cpu_ms() - t0) / reps, sum == -1 ? " " : "");
  };
  std::printf("\n## 2. Sampler, one row of %d logits (ms of CPU time per token)\n", n_vocab);
  time("greedy", {});
  {  // what the bench's engine threads do instead of sampling
    const double t0 = cpu_ms();
    std::int64_t sum = 0;
    for (int i = 0; i < 200; ++i)
      sum += std::max_element(logits.begin(), logits.end()) - logits.begin();
    std::printf("%-34s %7.3f ms%s\n", "std::max_element", (cpu_ms() - t0) / 200,
                sum == -1 ? " " : "");
  }

  qwen3::engine::SamplerParams card;
  card.temperature = 0.7f;
  card.top_k = 20;
  card.top_p = 0.8f;
  time("T 0.7, top-k 20, top-p 0.8", card);
}

void engine_profile(const std::shared_ptr<const Qwen3Model>& model, int threads, int past,
                    int gen) {
  const int n_vocab = model->config().n_vocab;
  std::printf("\n## 3. BatchEngine: B sequences, %d-token prompt then %d greedy steps each\n", past,
              gen);
  std::printf("%2s | %8s %8s | %9s %9s %9s %9s | %6s\n", "B", "tok/s", "ms/step", "forward",
              "gather", "schedule", "other", "steps");
  for (int B : {1, 2, 4, 8}) {
    qwen3::engine::BatchEngineOptions o;
    o.max_seqs = B;
    o.n_ctx = past + gen + 16;
    o.n_threads = threads;
    o.kv = g_kv;
    o.prefix_cache = false;
    qwen3::engine::BatchEngine engine(model, o);
    std::vector<std::thread> th;
    std::vector<double> start_ms(static_cast<std::size_t>(B));
    Clock::time_point decode_start{}, t_end{};
    qwen3::engine::BatchEngineStats at_decode{};
    std::mutex mu;
    int prefilled = 0;
    std::condition_variable cv;
    for (int s = 0; s < B; ++s)
      th.emplace_back([&, s] {
        std::vector<std::int32_t> prompt(static_cast<std::size_t>(past));
        for (int i = 0; i < past; ++i) prompt[static_cast<std::size_t>(i)] = token(s, i);
        const float* l = engine.eval(s, prompt.data(), past);
        {  // every sequence starts decoding together
          std::unique_lock<std::mutex> lock(mu);
          if (++prefilled == B) {
            decode_start = Clock::now();
            at_decode = engine.stats();
            cv.notify_all();
          }
          cv.wait(lock, [&] { return prefilled == B; });
        }
        for (int i = 0; i < gen; ++i) {
          const std::int32_t id = static_cast<std::int32_t>(std::max_element(l, l + n_vocab) - l);
          l = engine.eval(s, &id, 1);
        }
      });
    for (auto& t : th) t.join();
    t_end = Clock::now();
    const auto st = engine.stats();
    const double wall = std::chrono::duration<double, std::milli>(t_end - decode_start).count();
    const double steps = static_cast<double>(st.steps - at_decode.steps);
    const double fw = st.forward_ms - at_decode.forward_ms, ga = st.gather_ms - at_decode.gather_ms,
                 sc = st.schedule_ms - at_decode.schedule_ms;
    std::printf("%2d | %8.1f %8.2f | %9.2f %9.3f %9.3f %9.3f | %6.0f\n", B, B * gen * 1000.0 / wall,
                wall / steps, fw / steps, ga / steps, sc / steps, (wall - fw - ga - sc) / steps,
                steps);
  }
}

}  // namespace

// Part "matmuls": the matmuls of a decode step alone, on the model's own weights (per
// layer Q/K/V in one pass, output, gate/up in one pass, down; then the lm_head), for B =
// 1, 4, 8 tokens of constant activations: what part 1's matmul columns would cost with
// nothing between the matmuls. Passes alternate between matmul_multi's split item ranges
// (the default) and one shared range (set_matmul_split_ranges(false)), so both see the
// same load; medians of 12 passes each (ms of wall time, or CPU time with 1 thread). A
// dense model only.
void matmul_profile(const std::shared_ptr<const Qwen3Model>& model, int threads) {
  const auto& c = model->config();
  const auto& w = model->weights();
  if (c.is_moe()) return;
  qwen3::ThreadPool pool(threads);
  const int max_b = 8;
  const auto B8 = static_cast<std::size_t>(max_b);
  std::vector<float> x(B8 * static_cast<std::size_t>(std::max(c.n_ff, c.q_dim())), 0.01f);
  std::vector<float> q(B8 * c.q_dim()), k(B8 * c.kv_dim()), v(B8 * c.kv_dim()), o(B8 * c.n_embd),
      g(B8 * c.n_ff), u(B8 * c.n_ff), lg(B8 * c.n_vocab);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * static_cast<float>(i % 97) - 0.4f;
  auto now = [&] { return threads == 1 ? cpu_ms() : wall_ms(); };
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("## matmuls: a decode step's matmuls alone, %d threads (ms %s per step)\n", threads,
              threads == 1 ? "of CPU time" : "of wall time");
  std::printf("%2s %6s | %7s | %6s %6s %6s %6s %7s\n", "B", "ranges", "total", "qkv", "wo",
              "gateup", "down", "lm_head");
  for (int B : {1, 4, 8}) {
    std::vector<double> t[2][6];
    for (int rep = 0; rep < 28; ++rep) {
      const int split = rep % 2 == 0 ? 1 : 0;
      qwen3::set_matmul_split_ranges(split != 0);
      double ph[6] = {0, 0, 0, 0, 0, 0};
      const double t0 = now();
      for (const auto& L : w.layers) {
        const qwen3::WeightMatrix* qkv[] = {&L.wq, &L.wk, &L.wv};
        float* qkv_out[] = {q.data(), k.data(), v.data()};
        const qwen3::WeightMatrix* gu[] = {&L.w_gate, &L.w_up};
        float* gu_out[] = {g.data(), u.data()};
        double a = now();
        qwen3::matmul_multi(qkv, qkv_out, 3, x.data(), B, pool);
        double b = now();
        ph[1] += b - a;
        qwen3::matmul(L.wo, x.data(), B, o.data(), pool);
        a = now();
        ph[2] += a - b;
        qwen3::matmul_multi(gu, gu_out, 2, x.data(), B, pool);
        b = now();
        ph[3] += b - a;
        qwen3::matmul(L.w_down, x.data(), B, o.data(), pool);
        a = now();
        ph[4] += a - b;
      }
      const double a = now();
      qwen3::matmul(w.output, x.data(), B, lg.data(), pool);
      const double e = now();
      ph[5] = e - a;
      ph[0] = e - t0;
      if (rep >= 4)
        for (int i = 0; i < 6; ++i) t[split][i].push_back(ph[i]);
    }
    qwen3::set_matmul_split_ranges(true);
    for (int split : {1, 0})
      std::printf("%2d %6s | %7.2f | %6.2f %6.2f %6.2f %6.2f %7.2f\n", B,
                  split ? "split" : "shared", median(t[split][0]), median(t[split][1]),
                  median(t[split][2]), median(t[split][3]), median(t[split][4]),
                  median(t[split][5]));
    std::fflush(stdout);
  }
}

int main(int argc, char** argv) {
  const char* home = std::getenv("HOME");
  const std::string path =
      argc > 1 ? argv[1]
               : std::string(home ? home : ".") + "/.cache/qwen3-bench/models/qwen3-0.6b-q4_0.gguf";
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int past = argc > 3 ? std::atoi(argv[3]) : 160;
  const int gen = argc > 4 ? std::atoi(argv[4]) : 64;
  const int block = argc > 5 ? std::atoi(argv[5]) : qwen3::kKvBlockSize;
  if (argc > 7) g_kv = qwen3::parse_kv_type(argv[7]);
  qwen3::ModelLoadOptions lo;
  lo.n_threads = threads;
  std::shared_ptr<const Qwen3Model> model = Qwen3Model::load(path, lo);
  std::printf("# %s, %d threads, KV %s\n", path.c_str(), threads, qwen3::kv_type_name(g_kv));
  const std::string parts = argc > 6 ? argv[6] : "";
  if (parts == "matmuls") {
    matmul_profile(model, threads);
    return 0;
  }
  if (parts.rfind("steps", 0) == 0 && parts.size() > 5) {  // e.g. steps4: B = 4 alone
    forward_profile(model, threads, past, block, {std::atoi(parts.c_str() + 5)}, 400);
    return 0;
  }
  if (parts == "handoff") {
    handoff_cost(threads);
    return 0;
  }
  if (parts == "fuse") {
    fuse_profile(model, threads, past, block);
    return 0;
  }
  if (parts == "mixed" || parts == "engine") {
    if (parts == "mixed") mixed_profile(model, threads, past, block);
    if (parts == "engine") engine_profile(model, threads, past, gen);
    return 0;
  }
  forward_profile(model, threads, past, block);
  if (argc > 6) return 0;  // the forward pass only
  mixed_profile(model, threads, past, block);
  sampler_cost(model->config().n_vocab);
  engine_profile(model, threads, past, gen);
  return 0;
}
