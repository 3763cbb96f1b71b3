// `qwen3 convert-lora`: a Hugging Face PEFT LoRA folder -> llama.cpp's LoRA adapter GGUF
// (what convert_lora_to_gguf.py writes, without needing the base model's files). rsLoRA
// is folded into adapter.lora.alpha (alpha * sqrt(r)), so llama.cpp's alpha / r gives
// PEFT's scale; with -m, the adapter is first checked against the base model.
#include <memory>

#include "command.h"
#include "convert/lora_writer.h"
#include "convert/random_model.h"
#include "gguf/gguf_reader.h"
#include "model/lora_adapter.h"
#include "model/qwen3_model.h"

namespace qwen3::cli {
namespace {

struct ConvertLoraArgs {
  std::string in, out, model, type = "f32", arch = "qwen3";
};

Registrar reg(
    {"convert-lora", "PEFT LoRA folder -> llama.cpp LoRA adapter GGUF", [](CLI::App& app) {
       auto a = std::make_shared<ConvertLoraArgs>();
       app.add_option("adapter", a->in,
                      "PEFT folder (adapter_config.json + "
                      "adapter_model.safetensors)")
           ->required();
       app.add_option("-o,--output", a->out, "Output adapter GGUF")->required();
       app.add_option("-m,--model", a->model,
                      "Base model (GGUF or Hugging Face folder): check the adapter fits it and "
                      "take its architecture");
       app.add_option("--type", a->type, "Tensor type: f32 (default), f16 or bf16");
       app.add_option("--arch", a->arch, "general.architecture without -m (default qwen3)");
       return [a]() -> int {
         const auto adapter = load_peft_adapter(a->in);
         LoraWriteOptions wo;
         wo.arch = a->arch;
         if (!a->model.empty()) {
           const std::string& p = a->model;
           const Qwen3Config c = p.size() > 5 && p.compare(p.size() - 5, 5, ".gguf") == 0
                                     ? Qwen3Config::from_gguf(gguf::GgufFile::open(p))
                                     : Qwen3Model::load(p)->config();
           adapter->check_base(c);
           wo.arch = c.arch;
         }
         const GenModelType t = parse_gen_model_type(a->type);
         if (!t.type ||
             (*t.type != GgmlType::F32 && *t.type != GgmlType::F16 && *t.type != GgmlType::BF16))
           throw std::invalid_argument("--type must be f32, f16 or bf16");
         wo.dtype = *t.type;
         write_gguf_adapter(*adapter, a->out, wo);
         return kExitOk;
       };
     }});

}  // namespace
}  // namespace qwen3::cli
