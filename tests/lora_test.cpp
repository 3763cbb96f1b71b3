// LoRA adapters: PEFT folders and llama.cpp GGUFs load to the same matrices and scales
// (F32, F16, BF16; rsLoRA), the unmerged run-time update matches the plain float
// reference forward pass over merged weights W + s B A (one and two adapters), scale 0
// gives the base bit for bit, tokens of one batch may use different adapters, and bad
// adapters are clear errors. The llama.cpp logits comparison is bench/lora_crosscheck.sh.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "convert/gguf_convert.h"
#include "convert/hf_checkpoint_writer.h"
#include "convert/lora_writer.h"
#include "convert/random_model.h"
#include "engine/batch_engine.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "model/batch_forward.h"
#include "model/gguf_tensor_source.h"
#include "model/kv_cache.h"
#include "model/lora_adapter.h"
#include "model/qwen3_model.h"
#include "qwen3/adapter_config.h"
#include "qwen3/pipeline.h"
#include "reference_forward.h"
#include "text/tokenizer.h"

namespace qwen3 {
namespace {

std::shared_ptr<const Tokenizer> real_tokenizer() {
  static const auto tok = std::make_shared<const Tokenizer>(
      Tokenizer::from_file(std::string(QWEN3_TOKENIZER_DIR) + "/tokenizer.json"));
  return tok;
}

std::string tmp(const std::string& name) {
  return std::string(QWEN3_BUILD_DIR) + "/lora_test_" + name;
}

Qwen3Config small_config() {
  Qwen3Config c = Qwen3Config::tiny();
  c.name = "lora-test";
  c.n_layers = 2;
  c.n_embd = 128;
  c.n_head = 4;
  c.n_head_kv = 2;
  c.head_dim = 32;
  c.n_ff = 256;
  c.n_vocab = 512;
  c.n_ctx_train = 256;
  return c;
}

const std::string& base_file() {
  static const std::string path = [] {
    GenModelOptions o;
    o.config = small_config();
    o.type = parse_gen_model_type("f32");
    o.seed = 5;
    const std::string p = tmp("base.gguf");
    // Kept between the test processes (ctest runs each test alone) unless this binary
    // is newer than the file (the generator may have changed).
    struct stat file {
    }, self{};
    if (::stat(p.c_str(), &file) != 0 || ::stat("/proc/self/exe", &self) != 0 ||
        file.st_mtime < self.st_mtime)
      generate_random_model(o, *real_tokenizer(), p);
    return p;
  }();
  return path;
}

std::shared_ptr<Qwen3Model> base_model() {
  static std::shared_ptr<Qwen3Model> m = [] {
    auto file = std::make_shared<const gguf::GgufFile>(gguf::GgufFile::open(base_file()));
    return Qwen3Model::from_source(Qwen3Config::from_gguf(*file), real_tokenizer(),
                                   std::make_shared<GgufTensorSource>(file));
  }();
  return m;
}

std::vector<int32_t> ids(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (auto& id : v) id = static_cast<int32_t>(rng() % 512);
  return v;
}

std::vector<float> run(const std::vector<int32_t>& toks, std::shared_ptr<const LoraSet> set,
                       bool one_by_one = false) {
  auto m = base_model();
  InferenceContext ctx(m, 256, KvType::F32, 2);
  ctx.set_lora(std::move(set));
  const size_t V = static_cast<size_t>(m->config().n_vocab);
  std::vector<float> logits(toks.size() * V);
  if (one_by_one)
    for (size_t t = 0; t < toks.size(); ++t) ctx.eval(&toks[t], 1, logits.data() + t * V);
  else
    ctx.eval(toks.data(), static_cast<int>(toks.size()), logits.data(), true);
  return logits;
}

std::shared_ptr<const LoraSet> set_of(std::vector<LoraSet::Entry> e) {
  auto s = std::make_shared<LoraSet>();
  s->entries = std::move(e);
  return s;
}

double rel_error(const std::vector<float>& a, const std::vector<float>& ref) {
  double md = 0, mr = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    md = std::max(md, std::fabs(static_cast<double>(a[i]) - ref[i]));
    mr = std::max(mr, std::fabs(static_cast<double>(ref[i])));
  }
  return md / std::max(mr, 1e-30);
}

// W += s * B A (in double) for every pair of `a`.
void merge_into(testing::RefModel& m, const LoraAdapter& a, float user_scale) {
  for (int l = 0; l < m.c.n_layers; ++l) {
    testing::RefLayer& L = m.layers[static_cast<size_t>(l)];
    std::vector<float>* W[] = {&L.wq, &L.wk, &L.wv, &L.wo, &L.gate, &L.up, &L.down};
    for (int t = 0; t < kNumLoraTargets; ++t) {
      const LoraMatrices* p = a.find(l, static_cast<LoraTarget>(t));
      if (!p) continue;
      const double s = static_cast<double>(user_scale) * p->scale;
      for (int o = 0; o < p->out; ++o)
        for (int i = 0; i < p->in; ++i) {
          double d = 0;
          for (int r = 0; r < p->rank; ++r)
            d += static_cast<double>(p->b[static_cast<size_t>(o) * p->rank + r]) *
                 p->a[static_cast<size_t>(r) * p->in + i];
          (*W[t])[static_cast<size_t>(o) * p->in + i] += static_cast<float>(s * d);
        }
    }
  }
}

std::shared_ptr<LoraAdapter> random_adapter(uint64_t seed, GgmlType dt = GgmlType::F32,
                                            int rank = 8, bool rslora = false,
                                            std::vector<LoraTarget> targets = {}) {
  RandomLoraOptions o;
  o.rank = rank;
  o.alpha = 16;
  o.rslora = rslora;
  o.seed = seed;
  o.dtype = dt;
  o.targets = std::move(targets);
  return random_lora_adapter(small_config(), o);
}

void expect_same_adapter(const LoraAdapter& x, const LoraAdapter& y) {
  ASSERT_EQ(x.n_matrices(), y.n_matrices());
  for (int l = 0; l < x.n_layers(); ++l)
    for (int t = 0; t < kNumLoraTargets; ++t) {
      const LoraMatrices* a = x.find(l, static_cast<LoraTarget>(t));
      const LoraMatrices* b = y.find(l, static_cast<LoraTarget>(t));
      ASSERT_EQ(a == nullptr, b == nullptr) << l << " " << t;
      if (!a) continue;
      EXPECT_EQ(a->rank, b->rank);
      EXPECT_FLOAT_EQ(a->scale, b->scale);
      EXPECT_EQ(a->a, b->a);
      EXPECT_EQ(a->b, b->b);
    }
}

TEST(Lora, PeftAndGgufLoadTheSameAdapter) {
  for (GgmlType dt : {GgmlType::F32, GgmlType::F16, GgmlType::BF16})
    for (bool rs : {false, true}) {
      SCOPED_TRACE(std::to_string(static_cast<int>(dt)) + (rs ? " rslora" : ""));
      auto a = random_adapter(3, dt, 8, rs);
      LoraWriteOptions wo;
      wo.dtype = dt;
      wo.rslora = rs;
      const std::string dir = tmp("peft_" + std::to_string(static_cast<int>(dt)));
      const std::string gg = dir + ".gguf";
      write_peft_adapter(*a, dir, wo);
      write_gguf_adapter(*a, gg, wo);
      auto p = LoraAdapter::load(dir);
      auto g = LoraAdapter::load(gg);
      EXPECT_EQ(p->format(), "peft");
      EXPECT_EQ(g->format(), "gguf");
      EXPECT_FLOAT_EQ(p->find(0, LoraTarget::kQ)->scale, rs ? 16 / std::sqrt(8.0f) : 2.0f);
      expect_same_adapter(*a, *p);
      expect_same_adapter(*a, *g);
      EXPECT_NO_THROW(p->check_base(small_config()));
      EXPECT_NO_THROW(g->check_base(small_config()));
    }
}

TEST(Lora, UnmergedMatchesMergedReference) {
  auto a = random_adapter(11);
  auto b = random_adapter(12, GgmlType::F32, 4, false,
                          {LoraTarget::kQ, LoraTarget::kV, LoraTarget::kDown});
  const std::vector<int32_t> toks = ids(9, 1);
  const testing::RefModel base = testing::load_reference(base_file());
  const std::vector<float> ref_base = testing::reference_logits(base, toks);
  struct Case {
    std::vector<LoraSet::Entry> set;
  };
  const Case cases[] = {{{{a, 1.0f}}}, {{{a, 0.5f}, {b, -1.5f}}}, {{{b, 2.0f}}}};
  for (const Case& cs : cases) {
    testing::RefModel merged = base;
    for (const auto& e : cs.set) merge_into(merged, *e.adapter, e.scale);
    const std::vector<float> ref = testing::reference_logits(merged, toks);
    const std::vector<float> got = run(toks, set_of(cs.set));
    const std::vector<float> got1 = run(toks, set_of(cs.set), /*one_by_one=*/true);
    EXPECT_LT(rel_error(got, ref), 1e-5);
    EXPECT_LT(rel_error(got1, ref), 1e-5);
    // The adapter really changes the output (the comparison is not vacuous).
    EXPECT_GT(rel_error(ref_base, ref), 1e-2);
  }
}

TEST(Lora, ScaleZeroIsTheBaseBitForBit) {
  auto a = random_adapter(21);
  const std::vector<int32_t> toks = ids(7, 2);
  const std::vector<float> base = run(toks, nullptr);
  EXPECT_EQ(run(toks, set_of({{a, 0.0f}})), base);
  EXPECT_EQ(run(toks, set_of({})), base);
  EXPECT_EQ(run(toks, set_of({{a, 0.0f}}), true), run(toks, nullptr, true));
  EXPECT_NE(run(toks, set_of({{a, 1.0f}})), base);
}

TEST(Lora, TokensOfOneBatchUseTheirOwnAdapters) {
  auto m = base_model();
  auto a = random_adapter(31);
  auto set = set_of({{a, 1.0f}});
  const std::vector<int32_t> x = ids(5, 3), y = ids(5, 4);
  const size_t V = static_cast<size_t>(m->config().n_vocab);
  const Qwen3Config& c = m->config();
  KvCache c0(c.n_layers, c.n_head_kv, c.head_dim, 64, KvType::F32);
  KvCache c1(c.n_layers, c.n_head_kv, c.head_dim, 64, KvType::F32);
  BatchForward fwd(m, 16, 64, 2);
  std::vector<BatchToken> batch;
  for (int i = 0; i < 5; ++i) {  // interleaved: seq 0 with the adapter, seq 1 without
    batch.push_back({x[static_cast<size_t>(i)], 0, i, true, set.get()});
    batch.push_back({y[static_cast<size_t>(i)], 1, i, true, nullptr});
  }
  KvSequence* seqs[] = {&c0.seq(), &c1.seq()};
  std::vector<float> out(10 * V);
  fwd.forward(batch.data(), 10, seqs, 2, out.data());
  const std::vector<float> with = run(x, set), without = run(y, nullptr);
  std::vector<float> got_x, got_y;
  for (int i = 0; i < 10; ++i)
    (i % 2 ? got_y : got_x)
        .insert((i % 2 ? got_y : got_x).end(), out.begin() + static_cast<long>(i * V),
                out.begin() + static_cast<long>((i + 1) * V));
  EXPECT_LT(rel_error(got_x, with), 1e-5);
  EXPECT_LT(rel_error(got_y, without), 1e-5);
}

// Per-sequence adapters in the batching engine: each sequence's logits are those of its
// own set, and the prefix cache shares blocks only between equal sets (same adapters and
// scales; zero-scale entries do not count).
TEST(Lora, BatchEngineKeysThePrefixCacheByAdapterSet) {
  auto m = base_model();
  auto a = random_adapter(35);
  const size_t V = static_cast<size_t>(m->config().n_vocab);
  engine::BatchEngineOptions o;
  o.max_seqs = 2;
  o.n_ctx = 128;
  o.kv = KvType::F32;
  o.n_threads = 2;
  engine::BatchEngine e(m, o);
  const std::vector<int32_t> p = ids(40, 9);
  auto last = [&](const std::vector<float>& all) {
    return std::vector<float>(all.end() - static_cast<long>(V), all.end());
  };
  auto eval = [&](int s) {
    const float* l = e.eval(s, p.data(), static_cast<int>(p.size()));
    return std::vector<float>(l, l + V);
  };
  auto hits = [&] { return e.stats().prefix_hit_tokens; };
  e.set_lora(0, set_of({{a, 1.0f}}));
  EXPECT_LT(rel_error(eval(0), last(run(p, set_of({{a, 1.0f}})))), 1e-6);
  e.release(0);
  EXPECT_EQ(hits(), 0u);
  const std::vector<float> base = eval(1);  // the base model: nothing of seq 0 reused
  EXPECT_EQ(hits(), 0u);
  EXPECT_LT(rel_error(base, last(run(p, nullptr))), 1e-6);
  e.release(1);
  e.set_lora(1, set_of({{a, 2.0f}}));  // other scale: not reused
  eval(1);
  EXPECT_EQ(hits(), 0u);
  e.release(1);
  e.set_lora(1, set_of({{a, 1.0f}}));  // an equal set (another object): reused
  EXPECT_LT(rel_error(eval(1), last(run(p, set_of({{a, 1.0f}})))), 1e-6);
  EXPECT_GE(hits(), 32u);
  const auto before = hits();
  e.set_lora(1, set_of({{a, 1.0f}}));  // the same key keeps the sequence's tokens
  EXPECT_EQ(e.n_past(1), 40);
  e.set_lora(1, set_of({{a, 0.0f}}));  // scale 0 = the base: emptied, base blocks reused
  EXPECT_EQ(e.n_past(1), 0);
  EXPECT_EQ(eval(1), base);
  EXPECT_GE(hits(), before + 32);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string load_error(const std::string& path, const Qwen3Config* check = nullptr) {
  try {
    auto a = LoraAdapter::load(path);
    if (check) a->check_base(*check);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(Lora, BadAdaptersAreClearErrors) {
  auto a = random_adapter(41);
  const std::string dir = tmp("bad_peft");
  write_peft_adapter(*a, dir);
  const std::string good_cfg = [&] {
    std::ifstream in(dir + "/adapter_config.json");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  auto with_cfg = [&](const std::string& from, const std::string& to) {
    std::string s = good_cfg;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    write_file(dir + "/adapter_config.json", s);
    return load_error(dir);
  };
  EXPECT_NE(with_cfg("\"r\": 8", "\"r\": 0").find("rank r = 0"), std::string::npos);
  EXPECT_NE(with_cfg("\"r\": 8", "\"r\": 4").find("says r = 4"), std::string::npos);
  EXPECT_NE(with_cfg("\"q_proj\"", "\"lm_head\"").find("unknown LoRA target module 'lm_head'"),
            std::string::npos);
  EXPECT_NE(with_cfg("\"use_dora\": false", "\"use_dora\": true").find("DoRA"), std::string::npos);
  write_file(dir + "/adapter_config.json", good_cfg);
  EXPECT_EQ(load_error(dir), "");

  // Shape mismatch / wrong base: the adapter of a wider model, and of a deeper one.
  Qwen3Config wide = small_config();
  wide.n_embd = 256;
  Qwen3Config shallow = small_config();
  shallow.n_layers = 1;
  EXPECT_NE(load_error(dir, &wide).find("does not match the model's"), std::string::npos);
  EXPECT_NE(load_error(dir, &shallow).find("has only 1 layers"), std::string::npos);
  Qwen3Config moe = Qwen3Config::preset("tiny-moe");
  moe.n_embd = small_config().n_embd;
  EXPECT_NE(load_error(dir, &moe).find("mixture-of-experts"), std::string::npos);

  // GGUF: wrong architecture, not an adapter, unknown tensor, missing half, rank 0.
  const std::string gg = tmp("bad.gguf");
  LoraWriteOptions wo;
  wo.arch = "llama";
  write_gguf_adapter(*a, gg, wo);
  const Qwen3Config sc = small_config();
  EXPECT_NE(load_error(gg, &sc).find("architecture 'llama'"), std::string::npos);
  EXPECT_NE(load_error(base_file()).find("not a LoRA adapter GGUF"), std::string::npos);
  auto gguf_with = [&](const std::string& name, std::vector<int64_t> dims) {
    gguf::GgufWriter w;
    w.set_string("general.architecture", "qwen3");
    w.set_string("general.type", "adapter");
    w.set_string("adapter.type", "lora");
    w.set_f32("adapter.lora.alpha", 16);
    std::vector<float> zeros(static_cast<size_t>(dims[0] * dims[1]));
    w.add_tensor(name, GgmlType::F32, dims, zeros.data(), zeros.size() * 4);
    w.write(gg);
    return load_error(gg);
  };
  EXPECT_NE(gguf_with("token_embd.weight.lora_a", {128, 8}).find("unknown LoRA target"),
            std::string::npos);
  EXPECT_NE(gguf_with("blk.0.attn_q.weight.lora_a", {128, 8}).find("missing"), std::string::npos);
  EXPECT_NE(load_error(tmp("nowhere")).find("no such LoRA adapter"), std::string::npos);
}

// Regressions found while writing the loaders' fuzz targets (fuzz/lora_*_fuzz.cpp): each
// input is a clear std::runtime_error now, not a crash, a hang or another exception type.
std::string peft_error(const std::string& cfg, const std::vector<hf::SafetensorsSpec>& tensors) {
  const std::string dir = tmp("fuzz_peft");
  ::mkdir(dir.c_str(), 0755);
  write_file(dir + "/adapter_config.json", cfg);
  hf::write_safetensors(dir + "/adapter_model.safetensors", tensors);
  try {
    LoraAdapter::load(dir);
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a runtime_error: ") + e.what();
  }
  return "";
}

hf::SafetensorsSpec zeros_tensor(const std::string& name, std::vector<int64_t> shape) {
  return {name, GgmlType::F32, std::move(shape),
          [](void* dst, size_t n) { std::memset(dst, 0, n); }};
}

const char* kFuzzCfg = R"({"peft_type": "LORA", "r": 2, "lora_alpha": 4, %s})";

std::string cfg_with(const std::string& extra) {
  std::string s = kFuzzCfg;
  s.replace(s.find("%s"), 2, extra.empty() ? "\"bias\": \"none\"" : extra);
  return s;
}

// A q_proj pair of rank 2 for small_config (in 128, out 128) under `prefix`.
std::vector<hf::SafetensorsSpec> q_pair(const std::string& prefix = "base_model.model.",
                                        int layer = 0) {
  const std::string m = prefix + "model.layers." + std::to_string(layer) + ".self_attn.q_proj";
  return {zeros_tensor(m + ".lora_A.weight", {2, 128}),
          zeros_tensor(m + ".lora_B.weight", {128, 2})};
}

TEST(Lora, FuzzRegressionsPeft) {
  EXPECT_EQ(peft_error(cfg_with(""), q_pair()), "");
  // A tensor name of 200,000 characters: std::regex recursed per character (SIGSEGV).
  const std::string long_name =
      "base_model.model.model.layers.0.self_attn." + std::string(200000, 'a') + ".lora_A.weight";
  EXPECT_NE(peft_error(cfg_with(""), {zeros_tensor(long_name, {2, 128})})
                .find("unknown LoRA target tensor"),
            std::string::npos);
  // A rank_pattern key that is a pathological regular expression: hung in std::regex.
  EXPECT_NE(peft_error(cfg_with(R"("rank_pattern": {"(.*.*.*.*)*x": 2})"), q_pair())
                .find("is not supported"),
            std::string::npos);
  // A layer number past int: std::stoi threw std::out_of_range ("stoi").
  EXPECT_NE(peft_error(
                cfg_with(""),
                {zeros_tensor("model.layers.99999999999.self_attn.q_proj.lora_A.weight", {2, 128})})
                .find("unknown LoRA target tensor"),
            std::string::npos);
  // r = 1e300 was cast to int (undefined behaviour); a fractional r was truncated.
  EXPECT_NE(peft_error(R"({"r": 1e300})", q_pair()).find("whole number"), std::string::npos);
  EXPECT_NE(peft_error(R"({"r": 2.5})", q_pair()).find("whole number"), std::string::npos);
  EXPECT_NE(peft_error(R"({"r": 2, "lora_alpha": 1e300})", q_pair()).find("out of range"),
            std::string::npos);
  // The same pair under two names (with and without the base_model.model. prefix): the
  // second silently replaced the first.
  std::vector<hf::SafetensorsSpec> twice = q_pair();
  twice.push_back(zeros_tensor("model.layers.0.self_attn.q_proj.lora_A.weight", {2, 128}));
  EXPECT_NE(peft_error(cfg_with(""), twice).find("given twice"), std::string::npos);
  // A dimension past int was truncated by the cast.
  EXPECT_NE(peft_error(cfg_with(""),
                       {zeros_tensor("model.layers.0.self_attn.q_proj.lora_A.weight",
                                     {(int64_t{1} << 32) + 2, 0}),
                        zeros_tensor("model.layers.0.self_attn.q_proj.lora_B.weight", {128, 2})})
                .find("too large"),
            std::string::npos);

  // Plain patterns keep PEFT's meaning: the whole module name or its tail after a '.'.
  std::vector<hf::SafetensorsSpec> two = q_pair();
  for (auto& t : q_pair("base_model.model.", 1)) two.push_back(t);
  const std::string dir = tmp("fuzz_peft");
  write_file(dir + "/adapter_config.json",
             cfg_with(R"("alpha_pattern": {"model.layers.1.self_attn.q_proj": 8},
                         "rank_pattern": {"q_proj": 2})"));
  hf::write_safetensors(dir + "/adapter_model.safetensors", two);
  auto a = LoraAdapter::load(dir);
  EXPECT_FLOAT_EQ(a->find(0, LoraTarget::kQ)->scale, 2.0f);  // lora_alpha 4 / r 2
  EXPECT_FLOAT_EQ(a->find(1, LoraTarget::kQ)->scale, 4.0f);  // alpha_pattern 8 / r 2

  // From memory, the same adapter as from the folder.
  std::ifstream in(dir + "/adapter_model.safetensors", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ifstream cin(dir + "/adapter_config.json");
  const std::string cfg((std::istreambuf_iterator<char>(cin)), {});
  auto m =
      parse_peft_adapter(cfg, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "mem");
  expect_same_adapter(*a, *m);
}

TEST(Lora, FuzzRegressionsGguf) {
  auto gguf_error = [](std::vector<std::pair<std::string, std::vector<int64_t>>> tensors,
                       double alpha = 16) {
    gguf::GgufWriter w;
    w.set_string("general.architecture", "qwen3");
    w.set_string("general.type", "adapter");
    w.set_string("adapter.type", "lora");
    w.set_f64("adapter.lora.alpha", alpha);
    for (const auto& t : tensors) {
      std::vector<float> zeros(static_cast<size_t>(t.second[0] * t.second[1]));
      w.add_tensor(t.first, GgmlType::F32, t.second, zeros.data(), zeros.size() * 4);
    }
    const std::string path = tmp("fuzz.gguf");
    w.write(path);
    try {
      parse_gguf_adapter(gguf::GgufFile::open(path), path);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    } catch (const std::exception& e) {
      return std::string("not a runtime_error: ") + e.what();
    }
    return std::string();
  };
  EXPECT_EQ(gguf_error({{"blk.0.attn_q.weight.lora_a", {128, 2}},
                        {"blk.0.attn_q.weight.lora_b", {2, 128}}}),
            "");
  // std::stoi threw std::out_of_range on a layer number past int.
  EXPECT_NE(gguf_error({{"blk.99999999999.attn_q.weight.lora_a", {128, 2}}})
                .find("unknown LoRA target tensor"),
            std::string::npos);
  // blk.0 and blk.00 are one pair: the second silently replaced the first.
  EXPECT_NE(gguf_error({{"blk.0.attn_q.weight.lora_a", {128, 2}},
                        {"blk.00.attn_q.weight.lora_a", {128, 2}},
                        {"blk.0.attn_q.weight.lora_b", {2, 128}}})
                .find("given twice"),
            std::string::npos);
  // A non-finite alpha gave NaN / infinite scales.
  EXPECT_NE(gguf_error({{"blk.0.attn_q.weight.lora_a", {128, 2}},
                        {"blk.0.attn_q.weight.lora_b", {2, 128}}},
                       std::numeric_limits<double>::infinity())
                .find("out of range"),
            std::string::npos);
}

// qwen3 convert --lora: the adapter merged in F32 into a converted F32 GGUF gives the
// logits of the unmerged run-time adapter on the plain conversion.
TEST(Lora, ConvertMergesInF32) {
  // The conversion embeds the real tokenizer: the full vocabulary, a narrow model.
  Qwen3Config c = small_config();
  c.n_embd = 32;
  c.n_head = 1;
  c.n_head_kv = 1;
  c.n_ff = 64;
  c.n_vocab = 151936;
  hf::HfModelConfig h = hf::from_qwen3_config(c);
  h.tie_word_embeddings = true;
  hf::RandomCheckpointOptions ro;
  ro.dtype = GgmlType::F32;
  ro.n_shards = 1;
  ro.tokenizer_dir = QWEN3_TOKENIZER_DIR;
  const std::string dir = tmp("hf");
  hf::write_random_hf_checkpoint(dir, h, ro);
  RandomLoraOptions lo;
  lo.rank = 8;
  lo.alpha = 16;
  lo.seed = 71;
  auto a = random_lora_adapter(c, lo);
  hf::ConvertOptions co;
  co.target = *hf::parse_convert_target("f32");
  hf::convert_hf_to_gguf(dir, tmp("hf_base.gguf"), co);
  co.lora = {{a, 0.75f}};
  hf::convert_hf_to_gguf(dir, tmp("hf_merged.gguf"), co);
  auto eval = [&](const std::string& path, std::shared_ptr<const LoraSet> set) {
    auto file = std::make_shared<const gguf::GgufFile>(gguf::GgufFile::open(path));
    auto m = Qwen3Model::from_source(Qwen3Config::from_gguf(*file), real_tokenizer(),
                                     std::make_shared<GgufTensorSource>(file));
    InferenceContext ctx(m, 64, KvType::F32, 2);
    ctx.set_lora(std::move(set));
    const std::vector<int32_t> toks = ids(6, 9);
    std::vector<float> out(toks.size() * static_cast<size_t>(c.n_vocab));
    ctx.eval(toks.data(), static_cast<int>(toks.size()), out.data(), true);
    return out;
  };
  const auto merged = eval(tmp("hf_merged.gguf"), nullptr);
  const auto unmerged = eval(tmp("hf_base.gguf"), set_of({{a, 0.75f}}));
  EXPECT_LT(rel_error(merged, unmerged), 1e-5);
  EXPECT_GT(rel_error(eval(tmp("hf_base.gguf"), nullptr), unmerged), 1e-2);
  // An adapter of another shape is refused before anything is written.
  RandomLoraOptions wide;
  Qwen3Config wc = c;
  wc.n_ff = 512;
  co.lora = {{random_lora_adapter(wc, wide), 1.0f}};
  EXPECT_THROW(hf::convert_hf_to_gguf(dir, tmp("hf_bad.gguf"), co), std::runtime_error);
}

TEST(Lora, AdapterConfigSyntax) {
  EXPECT_EQ(AdapterConfig::parse("a/b").path, "a/b");
  EXPECT_FLOAT_EQ(AdapterConfig::parse("a/b").alpha, 1.0f);
  EXPECT_EQ(AdapterConfig::parse("x:y/a.gguf:0.25").path, "x:y/a.gguf");
  EXPECT_FLOAT_EQ(AdapterConfig::parse("x:y/a.gguf:0.25").alpha, 0.25f);
  EXPECT_FLOAT_EQ(AdapterConfig::parse("a:-1.5").alpha, -1.5f);
  EXPECT_EQ(AdapterConfig::parse("c:notanumber").path, "c:notanumber");
  EXPECT_THROW(AdapterConfig::parse(":2"), std::invalid_argument);
  EXPECT_THROW(AdapterConfig::parse("a:nan"), std::invalid_argument);
  AdapterConfig c("p1", 0.5f);
  c.add("p2:x", -2.0f);
  const AdapterConfig back = AdapterConfig::from_property(c.to_property());
  ASSERT_EQ(back.adapters.size(), 2u);
  EXPECT_EQ(back.adapters[1].path, "p2:x");
  EXPECT_FLOAT_EQ(back.adapters[1].alpha, -2.0f);
  EXPECT_THROW(c.set_alpha("p3", 1), std::invalid_argument);
}

// The public API: a Pipeline with an adapter generates what the adapter's logits say, and
// set_adapters with alpha 0 gives the base model's reply again.
TEST(Lora, PipelineAdapters) {
  auto a = random_adapter(51);
  const std::string dir = tmp("pipe_peft");
  write_peft_adapter(*a, dir);
  GenerationConfig g;
  g.apply_chat_template = false;
  g.max_new_tokens = 4;
  g.temperature = 0.0f;
  g.ignore_eos = true;
  const Properties props = {{"n_ctx", "128"}, {"kv_type", "f32"}};
  Pipeline base(base_file(), "CPU", props);
  Pipeline with(base_file(), "CPU", props, AdapterConfig(dir, 1.0f));
  const auto rb = base.generate("1234", g).tokens;
  const auto ra = with.generate("1234", g).tokens;
  EXPECT_NE(ra, rb);
  // Greedy with the adapter = the arg-max of the engine's adapter logits, token by token.
  std::vector<int32_t> ctx = base.encode("1234");
  const size_t V = static_cast<size_t>(small_config().n_vocab);
  for (size_t i = 0; i < ra.size(); ++i) {
    const std::vector<float> l = run(ctx, set_of({{a, 1.0f}}));
    const float* last = l.data() + (ctx.size() - 1) * V;
    const int best = static_cast<int>(std::max_element(last, last + V) - last);
    EXPECT_EQ(ra[i], best) << i;
    ctx.push_back(ra[i]);
  }
  with.set_adapters(AdapterConfig(dir, 0.0f));
  EXPECT_EQ(with.generate("1234", g).tokens, rb);
  with.set_adapters({});
  EXPECT_EQ(with.generate("1234", g).tokens, rb);
  EXPECT_THROW(with.set_adapters(AdapterConfig(tmp("nowhere"))), std::exception);
}

// The command line: --lora on logits changes the output, :0 does not, a bad adapter is
// a one-line error with exit status 2; convert-lora writes a GGUF equal to the PEFT folder.
TEST(Lora, CommandLine) {
  auto a = random_adapter(61, GgmlType::BF16, 4, true);
  const std::string dir = tmp("cli_peft");
  LoraWriteOptions wo;
  wo.dtype = GgmlType::BF16;
  wo.rslora = true;
  write_peft_adapter(*a, dir, wo);
  const std::string bin = QWEN3_BIN;
  const std::string gg = tmp("cli.gguf");
  ASSERT_EQ(std::system((bin + " convert-lora " + dir + " -m " + base_file() + " --type bf16 -o " +
                         gg + " 2>/dev/null")
                            .c_str()),
            0);
  expect_same_adapter(*LoraAdapter::load(dir), *LoraAdapter::load(gg));
  auto logits = [&](const std::string& extra) {
    const std::string out = tmp("cli.f32");
    std::remove(out.c_str());
    const int rc = std::system((bin + " logits -m " + base_file() + " --ids 1,2,3 -o " + out + " " +
                                extra + " 2>" + tmp("cli.err"))
                                   .c_str());
    std::ifstream in(out, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    return std::make_pair(rc, bytes);
  };
  const auto base = logits("");
  ASSERT_EQ(base.first, 0);
  EXPECT_EQ(logits("--lora " + dir + ":0").second, base.second);
  const auto peft = logits("--lora " + dir);
  EXPECT_NE(peft.second, base.second);
  const auto bad = logits("--lora " + tmp("nowhere"));
  EXPECT_EQ(WEXITSTATUS(bad.first), 2);
  std::ifstream err(tmp("cli.err"));
  std::string msg((std::istreambuf_iterator<char>(err)), {});
  EXPECT_NE(msg.find("no such LoRA adapter"), std::string::npos) << msg;
}

}  // namespace
}  // namespace qwen3
