#include "convert/gguf_convert.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "common/file_bytes.h"
#include "convert/gguf_convert_metadata.h"
#include "gguf/gguf_writer.h"
#include "model/convert_tensor.h"
#include "model/hf_config.h"
#include "model/hf_tensor_names.h"
#include "model/lora_adapter.h"
#include "model/safetensors_checkpoint.h"
#include "text/tokenizer.h"

namespace qwen3::hf {
namespace {

namespace fs = std::filesystem;

std::string read_optional(const fs::path& p) {
  return read_file_bytes(p).value_or(std::string());
}

// File order: token_embd, the blocks in numeric order, then output_norm and output.
int order_key(const std::string& gguf_name) {
  if (gguf_name == "token_embd.weight") return -1;
  if (gguf_name.rfind("blk.", 0) == 0) return std::stoi(gguf_name.substr(4));
  return 1 << 30;
}

struct Planned {
  std::string gguf_name;
  std::vector<const SafetensorsTensor*> srcs;  // one, or the experts of a 3-D tensor in order
  GgmlType type;
  std::vector<int64_t> dims;
};

// "blk.N.ffn_gate.E.weight" (one Hugging Face expert) -> ("blk.N.ffn_gate_exps.weight", E).
bool expert_slice(const std::string& g, std::string* merged, int* expert) {
  for (const char* kind : {"gate", "up", "down"}) {
    const std::string mid = std::string(".ffn_") + kind + ".";
    const size_t at = g.find(mid);
    if (at == std::string::npos || g.rfind("blk.", 0) != 0) continue;
    const std::string rest = g.substr(at + mid.size());  // "E.weight"
    const size_t dot = rest.find('.');
    if (dot == std::string::npos || rest.substr(dot) != ".weight") continue;
    *expert = std::stoi(rest.substr(0, dot));
    *merged = g.substr(0, at) + ".ffn_" + kind + "_exps.weight";
    return true;
  }
  return false;
}

}  // namespace

ConvertResult convert_hf_to_gguf(const std::string& folder, const std::string& out_path,
                                 const ConvertOptions& opts) {
  const HfModelConfig cfg = read_hf_config(folder);
  const HfGenerationDefaults gen = read_generation_config(folder);
  const Tokenizer tok = Tokenizer::from_file(folder);
  auto ck = std::make_shared<SafetensorsCheckpoint>(SafetensorsCheckpoint::open(folder));
  const bool has_output = !cfg.tie_word_embeddings;
  const int n_layers = static_cast<int>(cfg.num_hidden_layers);
  const int n_expert = static_cast<int>(cfg.num_experts);

  std::vector<Planned> plan;
  std::map<std::string, size_t> merged_at;  // 3-D expert tensor -> its index in plan
  for (const auto& hf_name : ck->names()) {
    std::optional<std::string> g;
    if (cfg.vl) {  // the language model's tensors; the vision tower is the mmproj's
      if (hf_name.rfind("model.visual.", 0) == 0 || hf_name.rfind("visual.", 0) == 0) continue;
      const std::string lm = "model.language_model.";
      if (hf_name.rfind(lm, 0) == 0)
        g = gguf_name_for("model." + hf_name.substr(lm.size()));
      else if (hf_name.rfind("lm_head.", 0) == 0)
        g = gguf_name_for(hf_name);
    } else {
      g = gguf_name_for(hf_name);
    }
    if (!g) {
      if (hf_name.find("rotary_emb.inv_freq") != std::string::npos) continue;
      throw std::runtime_error(folder + ": tensor '" + hf_name + "' is not part of a " +
                               cfg.architecture + " checkpoint");
    }
    if (*g == "output.weight" && !has_output) continue;  // tied: the embedding serves
    const SafetensorsTensor& t = ck->at(hf_name);
    std::vector<int64_t> dims = t.gguf_dims();
    std::string merged;
    int e = 0;
    if (expert_slice(*g, &merged, &e)) {  // llama.cpp stacks the experts: [E][rows][cols]
      if (!cfg.is_moe() || e < 0 || e >= n_expert)
        throw std::runtime_error(folder + ": tensor '" + hf_name + "' names expert " +
                                 std::to_string(e) + " of num_experts " + std::to_string(n_expert));
      auto it = merged_at.find(merged);
      if (it == merged_at.end()) {
        dims.push_back(n_expert);
        it = merged_at.emplace(merged, plan.size()).first;
        plan.push_back({merged, std::vector<const SafetensorsTensor*>(n_expert, nullptr),
                        tensor_type_for(opts.target, merged, dims, n_layers, has_output, n_expert),
                        dims});
      }
      Planned& p = plan[it->second];
      const auto& first_dims = p.dims;
      if (dims[0] != first_dims[0] || dims[1] != first_dims[1] ||
          (p.srcs[0] && t.type != p.srcs[0]->type) || p.srcs[static_cast<size_t>(e)])
        throw std::runtime_error(folder + ": expert tensor '" + hf_name +
                                 "' differs in shape or type from its siblings");
      p.srcs[static_cast<size_t>(e)] = &t;
      for (const SafetensorsTensor* s : p.srcs)
        if (s && s->type != t.type)
          throw std::runtime_error(folder + ": expert tensor '" + hf_name +
                                   "' differs in type from its siblings");
      continue;
    }
    plan.push_back(
        {*g, {&t}, tensor_type_for(opts.target, *g, dims, n_layers, has_output, n_expert), dims});
  }
  for (const auto& p : plan)
    for (size_t e = 0; e < p.srcs.size(); ++e)
      if (!p.srcs[e])
        throw std::runtime_error(folder + ": " + p.gguf_name + " is missing expert " +
                                 std::to_string(e) + " (mlp.experts." + std::to_string(e) + ")");
  std::stable_sort(plan.begin(), plan.end(), [](const Planned& a, const Planned& b) {
    return order_key(a.gguf_name) < order_key(b.gguf_name);
  });
  // Shapes are checked here so a bad checkpoint fails before anything is written.
  const int64_t h = cfg.hidden_size, q = cfg.num_attention_heads * cfg.head_dim,
                kv = cfg.num_key_value_heads * cfg.head_dim, ff = cfg.intermediate_size,
                x = cfg.moe_intermediate_size, ne = cfg.num_experts;
  const bool moe = cfg.is_moe();
  auto expect = [&](const std::string& suffix) -> std::vector<int64_t> {
    if (suffix == "token_embd.weight" || suffix == "output.weight") return {h, cfg.vocab_size};
    if (suffix == "output_norm.weight" || suffix == "attn_norm.weight" ||
        suffix == "ffn_norm.weight")
      return {h};
    if (suffix == "attn_q_norm.weight" || suffix == "attn_k_norm.weight") return {cfg.head_dim};
    if (suffix == "attn_q.weight") return {h, q};
    if (suffix == "attn_k.weight" || suffix == "attn_v.weight") return {h, kv};
    if (suffix == "attn_output.weight") return {q, h};
    if (moe) {
      if (suffix == "ffn_gate_inp.weight") return {h, ne};
      if (suffix == "ffn_gate_exps.weight" || suffix == "ffn_up_exps.weight") return {h, x, ne};
      if (suffix == "ffn_down_exps.weight") return {x, h, ne};
      return {};
    }
    if (suffix == "ffn_gate.weight" || suffix == "ffn_up.weight") return {h, ff};
    if (suffix == "ffn_down.weight") return {ff, h};
    return {};
  };
  const size_t per_layer = moe ? 12 : 11;  // 8 attention/norm + the MLP's 3 or 4
  size_t n_expected = 3 + per_layer * static_cast<size_t>(n_layers) - (has_output ? 0 : 1);
  for (const auto& p : plan) {
    std::string suffix = p.gguf_name;
    if (suffix.rfind("blk.", 0) == 0) {
      if (order_key(p.gguf_name) >= n_layers)
        throw std::runtime_error(folder + ": " + p.srcs[0]->name + " is beyond num_hidden_layers " +
                                 std::to_string(n_layers));
      suffix = suffix.substr(suffix.find('.', 4) + 1);
    }
    if (p.dims != expect(suffix)) {
      std::string got, want;
      for (auto d : p.srcs[0]->shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
      if (p.srcs.size() > 1) got = std::to_string(p.srcs.size()) + " experts of " + got;
      auto e = expect(suffix);
      for (auto it = e.rbegin(); it != e.rend(); ++it)
        want += (want.empty() ? "" : ", ") + std::to_string(*it);
      throw std::runtime_error(folder + ": tensor " + p.srcs[0]->name + " has shape [" + got +
                               "], config.json implies [" + want + "]");
    }
  }
  if (plan.size() != n_expected)
    throw std::runtime_error(folder + ": expected " + std::to_string(n_expected) + " " +
                             cfg.architecture + " tensors, found " + std::to_string(plan.size()) +
                             " (missing weights?)");

  // LoRA merge: which planned tensor each pair goes into (every pair must find one).
  std::vector<std::vector<std::pair<const LoraMatrices*, float>>> merges(plan.size());
  for (const auto& [adapter, scale] : opts.lora) {
    int found = 0;
    for (size_t i = 0; i < plan.size(); ++i) {
      const std::string& g = plan[i].gguf_name;
      if (g.rfind("blk.", 0) != 0 || plan[i].dims.size() != 2) continue;
      const int layer = order_key(g);
      const std::string suffix = g.substr(g.find('.', 4) + 1);
      for (int t = 0; t < kNumLoraTargets; ++t) {
        const auto tgt = static_cast<LoraTarget>(t);
        if (suffix != std::string(lora_target_gguf_name(tgt)) + ".weight") continue;
        const LoraMatrices* m = adapter->find(layer, tgt);
        if (!m) continue;
        if (m->in != plan[i].dims[0] || m->out != plan[i].dims[1])
          throw std::runtime_error(adapter->path() + ": LoRA shape " + std::to_string(m->out) +
                                   " x " + std::to_string(m->in) + " does not fit " + g +
                                   " (adapter made for another base model?)");
        ++found;
        if (scale != 0.0f) merges[i].emplace_back(m, scale * m->scale);
      }
    }
    if (found != adapter->n_matrices())
      throw std::runtime_error(adapter->path() + ": " +
                               std::to_string(adapter->n_matrices() - found) +
                               " LoRA pairs target no matrix of this model (another base model, "
                               "or the experts of a mixture-of-experts model?)");
  }

  gguf::GgufWriter w;
  std::string name = fs::path(folder).lexically_normal().filename().string();
  if (name.empty()) name = fs::path(folder).lexically_normal().parent_path().filename().string();
  set_model_metadata(w, cfg, name, llama_file_type(opts.target));
  set_sampling_metadata(w, gen);
  set_tokenizer_metadata(w, tok, cfg.vocab_size,
                         read_optional(fs::path(folder) / "tokenizer_config.json"), cfg);

  ConvertResult res;
  res.n_tensors = plan.size();
  for (size_t i = 0; i < plan.size(); ++i) {
    const Planned p = plan[i];
    for (const SafetensorsTensor* src : p.srcs) res.bytes_in += src->nbytes();
    res.bytes_out += gguf::GgufWriter::tensor_nbytes(p.type, p.dims);
    res.type_counts[std::string(ggml_type_info(p.type).name)]++;
    const size_t count = plan.size();
    auto progress = opts.progress;
    const int n_threads = opts.n_threads;
    if (!merges[i].empty()) {  // W + s B A in F32, then the target type
      const auto merge = merges[i];
      w.add_tensor_lazy(p.gguf_name, p.type, p.dims,
                        [ck, p, i, count, progress, n_threads, merge](void* dst, size_t) {
                          const int64_t in = p.dims[0], out = p.dims[1];
                          const SafetensorsTensor* src = p.srcs[0];
                          std::vector<float> wf(static_cast<size_t>(in * out));
                          convert_rows(src->type, src->data, GgmlType::F32, wf.data(), in, out,
                                       n_threads);
                          for (const auto& [m, s] : merge)
                            for (int64_t o = 0; o < out; ++o) {
                              float* row = &wf[static_cast<size_t>(o * in)];
                              for (int r = 0; r < m->rank; ++r) {
                                const float b = s * m->b[static_cast<size_t>(o * m->rank + r)];
                                const float* a = &m->a[static_cast<size_t>(r) * in];
                                for (int64_t c = 0; c < in; ++c) row[c] += b * a[c];
                              }
                            }
                          convert_rows(GgmlType::F32, wf.data(), p.type, dst, in, out, n_threads);
                          ck->release(*src);
                          if (progress) progress(p.gguf_name, p.type, i, count);
                        });
      continue;
    }
    w.add_tensor_lazy(p.gguf_name, p.type, p.dims,
                      [ck, p, i, count, progress, n_threads](void* dst, size_t) {
                        const int64_t row = p.dims[0];
                        uint8_t* out = static_cast<uint8_t*>(dst);
                        for (const SafetensorsTensor* src : p.srcs) {  // experts in order
                          const int64_t rows = src->n_elements() / row;
                          convert_rows(src->type, src->data, p.type, out, row, rows, n_threads);
                          out += ggml_row_size(p.type, row) * static_cast<size_t>(rows);
                          ck->release(*src);  // keep resident memory near one tensor
                        }
                        if (progress) progress(p.gguf_name, p.type, i, count);
                      });
  }
  w.write(out_path);
  return res;
}

}  // namespace qwen3::hf
