// `qwen3 pull REF`: downloads a model from the Hugging Face Hub into the shared cache
// (resume, parallel ranges, checksum) and prints its local path. REF is hf://ORG/NAME[:QUANT],
// ORG/NAME[:QUANT] or a short name such as qwen3:8b; --file takes one file of any repository.
#include <iostream>
#include <memory>

#include "command.h"
#include "hub/model_ref.h"
#include "model_download.h"

namespace qwen3::cli {
namespace {

struct Opts {
  std::string ref;
  std::string file;
};

std::string short_name_help() {
  std::string h = "Model: hf://ORG/NAME[:QUANT][@REV], ORG/NAME[:QUANT] or a short name (";
  bool first = true;
  for (const auto& s : hub::short_names()) {
    h += (first ? "" : ", ") + std::string(s.name);
    first = false;
  }
  return h +
         "; add -QUANT, e.g. qwen3:8b-q8_0). Without QUANT: Q4_K_M, else Q8_0, else the "
         "first GGUF";
}

Registrar reg({"pull", "Download a model from the Hugging Face Hub into the local cache",
               [](CLI::App& app) {
                 auto o = std::make_shared<Opts>();
                 app.add_option("model", o->ref, short_name_help())->required();
                 app.add_option("--file", o->file,
                                "Download this file of the repository instead of choosing a GGUF");
                 app.footer(
                     "Environment: HF_TOKEN (gated/private repos), HF_ENDPOINT (mirror), "
                     "HF_HUB_CACHE or HF_HOME (cache folder, default "
                     "~/.cache/huggingface/hub), HF_HUB_OFFLINE=1 (cache only).");
                 return [o]() -> int {
                   const hub::ModelRef ref = hub::parse_model_ref(o->ref, true);
                   const hub::HubClient client = make_hub_client();
                   const std::string path = o->file.empty()
                                                ? client.resolve(ref)
                                                : client.fetch(ref.repo, ref.revision, o->file);
                   std::cout << path << "\n";
                   return kExitOk;
                 };
               }});

}  // namespace
}  // namespace qwen3::cli
