// `qwen3 list`: the models in the local Hugging Face cache, with their files and sizes.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "command.h"
#include "hub/hub_cache.h"

namespace qwen3::cli {
namespace {

Registrar reg({"list", "List the models in the local Hugging Face cache", [](CLI::App& app) {
                 auto json = std::make_shared<bool>(false);
                 app.add_flag("--json", *json, "One JSON array instead of a table");
                 return [json]() -> int {
                   const hub::HubCache cache;
                   const auto entries = cache.list();
                   if (*json) {
                     nlohmann::json a = nlohmann::json::array();
                     for (const auto& e : entries)
                       a.push_back({{"repo", e.repo}, {"files", e.files}, {"bytes", e.bytes}});
                     std::cout << a.dump(2) << "\n";
                     return kExitOk;
                   }
                   if (entries.empty()) {
                     std::cout << "no models in " << cache.root() << " (qwen3 pull qwen3:0.6b)\n";
                     return kExitOk;
                   }
                   for (const auto& e : entries) {
                     std::printf("%-44s %9.1f MiB\n", e.repo.c_str(),
                                 static_cast<double>(e.bytes) / (1 << 20));
                     for (const auto& f : e.files) std::printf("  %s\n", f.c_str());
                   }
                   return kExitOk;
                 };
               }});

}  // namespace
}  // namespace qwen3::cli
