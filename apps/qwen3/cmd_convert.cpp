// `qwen3 convert HF_FOLDER -o out.gguf --type q4_k_m|q4_0|q8_0|f16|bf16|f32`
// [--mmproj-out mmproj.gguf] (a Qwen3-VL folder: the text GGUF plus the vision mmproj)
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "convert/gguf_convert.h"
#include "convert/mmproj_convert.h"
#include "model/hf_config.h"
#include "lora_options.h"
#include "model_path.h"

namespace qwen3::cli {
namespace {

struct ConvertOpts {
  std::string folder;
  std::string out;
  std::string mmproj_out;
  std::string type = "q4_k_m";
  int threads = 0;
  std::vector<std::string> lora;
  bool quiet = false;
};

Registrar reg({"convert", "Hugging Face Qwen3 folder -> GGUF (f32, f16, bf16, q8_0, q4_0, q4_k_m)",
               [](CLI::App& app) {
                 auto o = std::make_shared<ConvertOpts>();
                 app.add_option("folder", o->folder,
                                "Hugging Face model folder (config.json, tokenizer.json, "
                                "tokenizer_config.json, *.safetensors)")
                     ->required();
                 app.add_option("-o,--output", o->out, "Output .gguf file")->required();
                 app.add_option("--mmproj-out", o->mmproj_out,
                                "Qwen3-VL folder: also write the vision encoder as this mmproj "
                                ".gguf (F32 with --type f32, else F16)");
                 app.add_option("--type", o->type,
                                "q4_k_m (llama.cpp's Q4_K/Q6_K mix), q4_0, q8_0, f16, bf16 or f32")
                     ->capture_default_str();
                 app.add_option("-t,--threads", o->threads, "Threads (0 = physical cores)");
                 app.add_flag("-q,--quiet", o->quiet, "No per-tensor progress on stderr");
                 add_lora_option(app, o->lora,
                                 "LoRA adapter PATH[:SCALE] merged into the "
                                 "weights (in F32, before quantizing); repeatable",
                                 false);
                 return [o]() -> int {
                   auto target = hf::parse_convert_target(o->type);
                   if (!target) {
                     std::cerr << "qwen3: error: --type must be q4_k_m, q4_0, q8_0, f16, bf16 "
                                  "or f32 (got '"
                               << o->type << "')\n";
                     return kExitBadInput;
                   }
                   check_model_path(o->folder, ModelUse::kHfFolder);
                   hf::ConvertOptions copts;
                   copts.target = *target;
                   copts.n_threads = o->threads;
                   for (const auto& a : lora_config(o->lora).adapters)
                     copts.lora.emplace_back(LoraAdapter::load(a.path), a.alpha);
                   if (!o->quiet)
                     copts.progress = [](const std::string& name, GgmlType t, size_t i, size_t n) {
                       std::fprintf(stderr, "[%4zu/%4zu] %-32s %s\n", i + 1, n, name.c_str(),
                                    std::string(ggml_type_info(t).name).c_str());
                     };
                   // A folder without a vision tower fails here, before anything is written.
                   if (!o->mmproj_out.empty()) (void)hf::read_hf_vision_config(o->folder);
                   const auto t0 = std::chrono::steady_clock::now();
                   const auto res = hf::convert_hf_to_gguf(o->folder, o->out, copts);
                   const double s =
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                   std::string types;
                   for (const auto& [k, v] : res.type_counts)
                     types += (types.empty() ? "" : ", ") + std::to_string(v) + " " + k;
                   std::fprintf(stderr,
                                "wrote %s: %zu tensors (%s), %.1f MiB -> %.1f MiB in %.1f s\n",
                                o->out.c_str(), res.n_tensors, types.c_str(),
                                res.bytes_in / 1048576.0, res.bytes_out / 1048576.0, s);
                   if (!o->mmproj_out.empty()) {
                     const GgmlType mt =
                         *target == hf::ConvertTarget::F32 ? GgmlType::F32 : GgmlType::F16;
                     const size_t n =
                         hf::convert_hf_to_mmproj(o->folder, o->mmproj_out, mt, o->threads);
                     std::fprintf(stderr, "wrote %s: %zu tensors (%s)\n", o->mmproj_out.c_str(), n,
                                  std::string(ggml_type_info(mt).name).c_str());
                   } else if (hf::read_hf_config(o->folder).vl) {
                     std::fprintf(stderr,
                                  "note: the vision tower was not converted (add --mmproj-out "
                                  "mmproj.gguf)\n");
                   }
                   return kExitOk;
                 };
               }});

}  // namespace
}  // namespace qwen3::cli
