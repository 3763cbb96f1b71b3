// What a LoRA adapter costs a decoded token (issue 15's "rank-16 adapter on all 7
// projections >= 85 % of the base's decode speed"), measured so that a busy machine
// blurs it as little as possible. Not a Google Benchmark: it prints tables.
//   1. Decode, one token at a time after a 16-token prompt, base and each adapter taken
//      in turns (rounds alternate, so load drifts hit all alike): with 1 thread in CPU
//      time of the thread (nearly independent of other processes), with the chosen thread
//      count in wall time; median ms per token and speed relative to the base.
//   2. The LoRA update alone for one token through every layer (4 groups x n_layers),
//      in its own passes of the pool (LoraBatch::apply: fused groups, F16/BF16 when exact,
//      B^T; the forward pass itself now runs it inside the base matmul's pass,
//      LoraBatch::matmul, which table 1 measures) and with the earliest path (two
//      `matmul` calls and two loops per adapter and projection, rebuilt here from the
//      adapter's F32 matrices): CPU time with 1 thread, wall time with the chosen count.
// Run: build/lora_decode_bench [model.gguf] [threads] [adapter.gguf|PEFT dir ...]
// (default ~/.cache/qwen3-bench/models/qwen3-0.6b-q4_0.gguf, 2 threads; without adapters
// a random rank-16 one on all 7 projections: F32, F16, and the F32 one run from its lossy
// F16 copy as with --lora-f16).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "convert/lora_writer.h"
#include "kernels/matmul.h"
#include "kernels/thread_pool.h"
#include "model/inference_context.h"
#include "model/lora_adapter.h"
#include "model/lora_apply.h"
#include "model/qwen3_model.h"

namespace {

using namespace qwen3;

double cpu_ms() {  // this thread's CPU time
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

double wall_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Variant {
  std::string name;
  std::shared_ptr<const LoraSet> set;  // nullptr = base
};

// ms per decoded token: a 16-token prompt, then `gen` tokens one by one.
double decode_ms(InferenceContext& ctx, const Variant& v, int gen, bool cpu) {
  ctx.set_lora(v.set);
  ctx.reset();
  std::vector<int32_t> prompt(16);
  for (int i = 0; i < 16; ++i) prompt[static_cast<size_t>(i)] = 1000 + 37 * i;
  std::vector<float> logits(static_cast<size_t>(ctx.model().config().n_vocab));
  ctx.eval(prompt.data(), 16, logits.data());
  int32_t tok = 2000;
  const double t0 = cpu ? cpu_ms() : wall_ms();
  for (int i = 0; i < gen; ++i) {
    ctx.eval(&tok, 1, logits.data());
    tok = 1000 + (tok * 31 + i) % 30000;
  }
  return ((cpu ? cpu_ms() : wall_ms()) - t0) / gen;
}

void decode_table(const std::shared_ptr<const Qwen3Model>& m, const std::vector<Variant>& vs,
                  int threads, bool cpu, int rounds, int gen) {
  InferenceContext ctx(m, 512, KvType::F16, threads);
  std::vector<std::vector<double>> ms(vs.size());
  decode_ms(ctx, vs[0], 4, cpu);  // warm-up
  for (int r = 0; r < rounds; ++r)
    for (size_t i = 0; i < vs.size(); ++i) ms[i].push_back(decode_ms(ctx, vs[i], gen, cpu));
  std::printf("\n1. decode, %d thread(s), %s, median of %d rounds of %d tokens\n", threads,
              cpu ? "CPU ms/token of the thread" : "wall ms/token", rounds, gen);
  const double base = median(ms[0]);
  for (size_t i = 0; i < vs.size(); ++i) {
    const double med = median(ms[i]);
    std::printf("  %-34s %8.3f ms/token  %6.1f tok/s  %5.1f %% of the base\n", vs[i].name.c_str(),
                med, 1000.0 / med, 100.0 * base / med);
  }
}

// The earlier run-time path, for comparison: per adapter and projection, A x with
// matmul, a scaling loop, B (A x) with matmul, an add loop.
struct OldPath {
  std::vector<float> ax, delta;
  void apply(const LoraSet& set, int layer, LoraTarget t, const float* x, float* y, int out,
             ThreadPool& pool) {
    for (const LoraSet::Entry& e : set.entries) {
      if (!e.adapter || e.scale == 0.0f) continue;
      const LoraMatrices* m = e.adapter->find(layer, t);
      if (!m) continue;
      ax.resize(static_cast<size_t>(m->rank));
      delta.resize(static_cast<size_t>(out));
      matmul(m->A(), x, 1, ax.data(), pool);
      const float s = e.scale * m->scale;
      for (float& v : ax) v *= s;
      matmul(m->B(), ax.data(), 1, delta.data(), pool);
      for (int i = 0; i < out; ++i) y[i] += delta[static_cast<size_t>(i)];
    }
  }
};

void update_table(const Qwen3Config& c, const std::vector<Variant>& vs, int threads, bool cpu,
                  int rounds) {
  ThreadPool pool(threads);
  const int E = c.n_embd, QD = c.q_dim(), KD = c.kv_dim(), F = c.n_ff;
  std::vector<float> x(static_cast<size_t>(std::max({E, QD, F})), 0.01f);
  std::vector<float> q(static_cast<size_t>(QD)), k(static_cast<size_t>(KD)),
      v(static_cast<size_t>(KD)), o(static_cast<size_t>(E)), g(static_cast<size_t>(F)),
      u(static_cast<size_t>(F)), d(static_cast<size_t>(E));
  std::printf(
      "\n2. the LoRA update of one token through %d layers, %d thread(s), %s, median of "
      "%d rounds of 20\n",
      c.n_layers, threads, cpu ? "CPU ms of the thread" : "wall ms", rounds);
  for (size_t vi = 1; vi < vs.size(); ++vi) {
    const LoraSet& set = *vs[vi].set;
    LoraBatch batch;
    batch.clear();
    batch.add_token(&set);
    OldPath old;
    auto run_new = [&] {
      for (int l = 0; l < c.n_layers; ++l) {
        float* qkv[] = {q.data(), k.data(), v.data()};
        const int qkv_w[] = {QD, KD, KD};
        batch.apply(l, LoraGroup::kQkv, x.data(), E, qkv, qkv_w, pool);
        float* op[] = {o.data()};
        batch.apply(l, LoraGroup::kO, x.data(), QD, op, &E, pool);
        float* gu[] = {g.data(), u.data()};
        const int gu_w[] = {F, F};
        batch.apply(l, LoraGroup::kGateUp, x.data(), E, gu, gu_w, pool);
        float* dp[] = {d.data()};
        batch.apply(l, LoraGroup::kDown, x.data(), F, dp, &E, pool);
      }
    };
    auto run_old = [&] {
      for (int l = 0; l < c.n_layers; ++l) {
        old.apply(set, l, LoraTarget::kQ, x.data(), q.data(), QD, pool);
        old.apply(set, l, LoraTarget::kK, x.data(), k.data(), KD, pool);
        old.apply(set, l, LoraTarget::kV, x.data(), v.data(), KD, pool);
        old.apply(set, l, LoraTarget::kO, x.data(), o.data(), E, pool);
        old.apply(set, l, LoraTarget::kGate, x.data(), g.data(), F, pool);
        old.apply(set, l, LoraTarget::kUp, x.data(), u.data(), F, pool);
        old.apply(set, l, LoraTarget::kDown, x.data(), d.data(), E, pool);
      }
    };
    std::vector<double> t_new, t_old;
    run_new();
    run_old();
    for (int r = 0; r < rounds; ++r) {
      for (int path = 0; path < 2; ++path) {
        const double t0 = cpu ? cpu_ms() : wall_ms();
        for (int i = 0; i < 20; ++i) path ? run_old() : run_new();
        ((path ? t_old : t_new)).push_back(((cpu ? cpu_ms() : wall_ms()) - t0) / 20);
      }
    }
    std::printf("  %-34s own passes %7.3f ms   earliest path %7.3f ms\n", vs[vi].name.c_str(),
                median(t_new), median(t_old));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* home = std::getenv("HOME");
  const std::string model_path =
      argc > 1 ? argv[1]
               : std::string(home ? home : "") + "/.cache/qwen3-bench/models/qwen3-0.6b-q4_0.gguf";
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  auto m = Qwen3Model::load(model_path);
  const Qwen3Config& c = m->config();
  std::vector<Variant> vs = {{"base", nullptr}};
  if (argc > 3) {
    for (int i = 3; i < argc; ++i) vs.push_back({argv[i], load_lora_set({{argv[i], 1.0f}}, c)});
  } else {
    for (const std::string type : {"f32", "f16", "f32 --lora-f16"}) {
      RandomLoraOptions o;
      o.rank = 16;
      o.dtype = type == "f16" ? GgmlType::F16 : GgmlType::F32;
      set_lora_lossy_f16(type == "f32 --lora-f16");
      auto set = std::make_shared<LoraSet>();
      set->entries.push_back({random_lora_adapter(c, o, "random r16 " + type), 1.0f});
      set_lora_lossy_f16(false);
      vs.push_back({"random r16 all 7, " + type, set});
    }
  }
  std::printf("model %s, %d layers; adapters:", model_path.c_str(), c.n_layers);
  for (size_t i = 1; i < vs.size(); ++i) std::printf(" %s", vs[i].name.c_str());
  std::printf("\n");
  decode_table(m, vs, 1, true, 5, 24);
  if (threads > 1) decode_table(m, vs, threads, false, 5, 32);
  update_table(c, vs, 1, true, 5);
  if (threads > 1) update_table(c, vs, threads, false, 5);
  return 0;
}
