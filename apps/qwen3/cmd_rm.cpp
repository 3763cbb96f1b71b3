// `qwen3 rm ORG/NAME`: deletes a model repository from the local Hugging Face cache.
#include <iostream>
#include <memory>

#include "command.h"
#include "hub/hub_cache.h"
#include "hub/model_ref.h"

namespace qwen3::cli {
namespace {

Registrar reg(
    {"rm", "Delete a model from the local Hugging Face cache", [](CLI::App& app) {
       auto ref = std::make_shared<std::string>();
       app.add_option("model", *ref, "hf://ORG/NAME, ORG/NAME or a short name")->required();
       return [ref]() -> int {
         const hub::ModelRef r = hub::parse_model_ref(*ref, true);
         const hub::HubCache cache;
         if (!cache.remove(r.repo)) {
           std::cerr << "qwen3 rm: " << r.repo << " is not in " << cache.root() << "\n";
           return kExitBadInput;
         }
         std::cout << "deleted " << r.repo << "\n";
         return kExitOk;
       };
     }});

}  // namespace
}  // namespace qwen3::cli
