// Checkpoint file: "QW3LORA1", step, sequences, n_params, then per pair: layer, target,
// rank, in, out, scale, and a, b, ma, va, mb, vb as raw little-endian floats.
#include "train/train_checkpoint.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace qwen3::train {
namespace {

constexpr char kMagic[8] = {'Q', 'W', '3', 'L', 'O', 'R', 'A', '1'};

template <class T>
void put(std::ofstream& f, const T& v) {
  f.write(reinterpret_cast<const char*>(&v), sizeof v);
}
void put_vec(std::ofstream& f, const std::vector<float>& v) {
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
}

struct Reader {
  std::ifstream f;
  std::string path;
  template <class T>
  T get() {
    T v{};
    if (!f.read(reinterpret_cast<char*>(&v), sizeof v)) fail("truncated");
    return v;
  }
  void get_vec(std::vector<float>& v) {
    if (!f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4)))
      fail("truncated");
  }
  [[noreturn]] void fail(const std::string& why) {
    throw std::runtime_error(path + ": not a usable finetune checkpoint (" + why + ")");
  }
};

}  // namespace

void save_checkpoint(const std::string& path, const LoraParams& p, const TrainProgress& pr) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error(tmp + ": cannot write");
    f.write(kMagic, 8);
    put(f, pr.step);
    put(f, pr.sequences);
    put(f, static_cast<int64_t>(p.params().size()));
    for (const auto& q : p.params()) {
      put(f, static_cast<int32_t>(q.layer));
      put(f, static_cast<int32_t>(q.target));
      put(f, static_cast<int32_t>(q.m.rank));
      put(f, static_cast<int32_t>(q.m.in));
      put(f, static_cast<int32_t>(q.m.out));
      put(f, q.m.scale);
      for (const auto* v : {&q.m.a, &q.m.b, &q.ma, &q.va, &q.mb, &q.vb}) put_vec(f, *v);
    }
    if (!f.flush()) throw std::runtime_error(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error(path + ": cannot replace the checkpoint");
}

LoraParams load_checkpoint(const std::string& path, const Qwen3Config& c, TrainProgress* pr) {
  Reader r{std::ifstream(path, std::ios::binary), path};
  if (!r.f) throw std::runtime_error(path + ": cannot open");
  char magic[8];
  if (!r.f.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) r.fail("bad magic");
  TrainProgress p;
  p.step = r.get<int64_t>();
  p.sequences = r.get<int64_t>();
  const int64_t n = r.get<int64_t>();
  if (p.step < 0 || p.sequences < 0 || n <= 0 ||
      n > static_cast<int64_t>(c.n_layers) * kNumLoraTargets)
    r.fail("bad header");
  // The matrices go through a LoraAdapter (its checks: duplicates, sizes), then the
  // moments are attached to their pairs.
  LoraAdapter a(path, "checkpoint");
  struct Moments {
    int layer, target;
    std::vector<float> ma, va, mb, vb;
  };
  std::vector<Moments> moments;
  for (int64_t i = 0; i < n; ++i) {
    const int layer = r.get<int32_t>(), target = r.get<int32_t>();
    LoraMatrices m;
    m.rank = r.get<int32_t>();
    m.in = r.get<int32_t>();
    m.out = r.get<int32_t>();
    m.scale = r.get<float>();
    if (layer < 0 || layer >= c.n_layers || target < 0 || target >= kNumLoraTargets ||
        m.rank <= 0 || m.rank > 65536 ||
        m.in != lora_target_in(c, static_cast<LoraTarget>(target)) ||
        m.out != lora_target_out(c, static_cast<LoraTarget>(target)))
      r.fail("matrices do not fit the base model");
    m.a.resize(static_cast<size_t>(m.rank) * m.in);
    m.b.resize(static_cast<size_t>(m.out) * m.rank);
    r.get_vec(m.a);
    r.get_vec(m.b);
    Moments mo{layer,
               target,
               std::vector<float>(m.a.size()),
               std::vector<float>(m.a.size()),
               std::vector<float>(m.b.size()),
               std::vector<float>(m.b.size())};
    r.get_vec(mo.ma);
    r.get_vec(mo.va);
    r.get_vec(mo.mb);
    r.get_vec(mo.vb);
    a.add(layer, static_cast<LoraTarget>(target), std::move(m));
    moments.push_back(std::move(mo));
  }
  LoraParams P = LoraParams::from_adapter(c, a);
  for (int64_t i = 0; i < n; ++i) {
    Moments& mo = moments[static_cast<size_t>(i)];
    LoraParam* q = P.find(mo.layer, static_cast<LoraTarget>(mo.target));
    q->ma = std::move(mo.ma);
    q->va = std::move(mo.va);
    q->mb = std::move(mo.mb);
    q->vb = std::move(mo.vb);
  }
  *pr = p;
  return P;
}

}  // namespace qwen3::train
