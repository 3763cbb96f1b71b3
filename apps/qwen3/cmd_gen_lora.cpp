// `qwen3 gen-lora`: writes a random-weight LoRA adapter for a base model's shape, as a
// Hugging Face PEFT folder and/or a llama.cpp adapter GGUF holding the same matrices
// (the llama.cpp cross-check and the LoRA benchmarks use it; weights are never
// downloaded).
#include <cstdio>
#include <memory>

#include "command.h"
#include "convert/lora_writer.h"
#include "convert/random_model.h"
#include "gguf/gguf_reader.h"
#include "model/qwen3_model.h"

namespace qwen3::cli {
namespace {

struct GenLoraArgs {
  std::string model, peft, gguf, targets = "all", type = "f32";
  int rank = 16;
  float alpha = 32;
  bool rslora = false;
  uint64_t seed = 1;
  float strength = 0.5f;
};

Qwen3Config base_config(const std::string& path) {
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0)
    return Qwen3Config::from_gguf(gguf::GgufFile::open(path));
  return Qwen3Model::load(path)->config();
}

Registrar reg({"gen-lora", "Write a random-weight LoRA adapter (PEFT folder and/or GGUF)",
               [](CLI::App& app) {
                 auto a = std::make_shared<GenLoraArgs>();
                 app.add_option("-m,--model", a->model,
                                "Base model (GGUF file or Hugging Face folder) whose shape the "
                                "adapter fits")
                     ->required();
                 app.add_option("--peft", a->peft, "Write a PEFT folder here");
                 app.add_option("--gguf", a->gguf, "Write a llama.cpp LoRA GGUF here");
                 app.add_option("--rank", a->rank, "LoRA rank r")->check(CLI::Range(1, 4096));
                 app.add_option("--alpha", a->alpha, "lora_alpha (scale alpha / r)");
                 app.add_flag("--rslora", a->rslora, "rsLoRA: scale alpha / sqrt(r)");
                 app.add_option("--targets", a->targets,
                                "Comma-separated projections: q,k,v,o,gate,up,down or all");
                 app.add_option("--type", a->type, "Tensor type: f32, f16 or bf16");
                 app.add_option("--seed", a->seed, "Random seed");
                 app.add_option("--strength", a->strength,
                                "Size of the update relative to the base projection (0.5)");
                 return [a]() -> int {
                   if (a->peft.empty() && a->gguf.empty())
                     throw std::invalid_argument("gen-lora: give --peft DIR and/or --gguf FILE");
                   const Qwen3Config c = base_config(a->model);
                   RandomLoraOptions o;
                   o.rank = a->rank;
                   o.alpha = a->alpha;
                   o.rslora = a->rslora;
                   o.targets = parse_lora_targets(a->targets);
                   o.seed = a->seed;
                   const GenModelType t = parse_gen_model_type(a->type);
                   if (!t.type || (*t.type != GgmlType::F32 && *t.type != GgmlType::F16 &&
                                   *t.type != GgmlType::BF16))
                     throw std::invalid_argument("--type must be f32, f16 or bf16");
                   o.dtype = *t.type;
                   o.strength = a->strength;
                   auto adapter = random_lora_adapter(c, o);
                   LoraWriteOptions wo;
                   wo.dtype = o.dtype;
                   wo.rslora = a->rslora;
                   wo.arch = c.arch;
                   wo.base_model = a->model;
                   if (!a->peft.empty()) write_peft_adapter(*adapter, a->peft, wo);
                   if (!a->gguf.empty()) write_gguf_adapter(*adapter, a->gguf, wo);
                   return kExitOk;
                 };
               }});

}  // namespace
}  // namespace qwen3::cli
