// `qwen3 devices`: the backends compiled into this build, the devices each one sees, and
// where --device AUTO would land: each tier of the chain with why it would fail (predicted
// without loading a model).
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "command.h"
#include "device/host_cpu.h"
#include "device/openvino_support.h"
#include "engine/device_choice.h"
#include "kernels/cpu_features.h"

namespace qwen3::cli {
namespace {

// The AUTO chain as `qwen3 devices` shows it: an entry shaped like the backends'.
nlohmann::json describe_auto(const std::string& model) {
  const engine::ChainPreview p = engine::preview_auto_chain(model);
  nlohmann::json tiers = nlohmann::json::array();
  for (const auto& f : p.failures)
    tiers.push_back({{"tier", f.tier.name()}, {"status", "fails"}, {"reason", f.reason}});
  tiers.push_back({{"tier", p.chosen}, {"status", "serves"}});
  return {{"backend", "AUTO"},
          {"compiled", true},
          {"chosen", p.chosen},
          {"tiers", tiers},
          {"note", "--device AUTO, predicted without loading a model" +
                       std::string(model.empty() ? " (-m MODEL sizes the NPU profiles)" : "")}};
}

nlohmann::json describe_devices(const std::string& model) {
  const device::HostCpu cpu = device::detect_host_cpu();
  const IsaLevel isa = isa_level();  // throws for a bad QWEN3_ISA
  nlohmann::json levels = nlohmann::json::array();
  for (IsaLevel l : available_isas()) levels.push_back(isa_name(l));
  nlohmann::json native = {{"backend", "native"},
                           {"compiled", true},
                           {"devices",
                            {{{"device", "CPU"},
                              {"name", cpu.model_name},
                              {"logical_cpus", cpu.logical_cpus},
                              {"physical_cores", cpu.physical_cores},
                              {"avx2", cpu.avx2},
                              {"fma", cpu.fma},
                              {"f16c", cpu.f16c},
                              {"isa", isa_name(isa)},
                              {"isa_best", isa_name(best_isa())},
                              {"isa_available", levels},
                              {"cpu_flags", cpu_flags_string()},
                              {"kernels", isa_name(isa)}}}}};
  const device::OpenVinoInfo ov = device::openvino_info();
  nlohmann::json openvino = {{"backend", "openvino"}, {"compiled", ov.compiled}};
  if (ov.compiled) {
    openvino["version"] = ov.version;
    nlohmann::json devs = nlohmann::json::array();
    for (const auto& d : ov.devices) devs.push_back({{"device", d}});
    openvino["devices"] = devs;
  }
  if (!ov.error.empty()) openvino["note"] = ov.error;
  return nlohmann::json::array({native, openvino, describe_auto(model)});
}

void print_text(const nlohmann::json& backends) {
  for (const auto& b : backends) {
    if (b.contains("tiers")) {
      std::cout << "--device AUTO would serve on " << b["chosen"].get<std::string>() << ":\n";
      for (const auto& t : b["tiers"])
        std::cout << "  " << t["tier"].get<std::string>() << ": "
                  << (t.contains("reason") ? "fails: " + t["reason"].get<std::string>()
                                           : std::string("serves"))
                  << "\n";
      continue;
    }
    std::cout << b["backend"].get<std::string>() << ": "
              << (b["compiled"].get<bool>() ? "compiled in" : "not available") << "\n";
    if (b.contains("devices")) {
      for (const auto& d : b["devices"]) {
        std::cout << "  " << d["device"].get<std::string>();
        if (d.contains("name")) {
          std::cout << ": " << d["name"].get<std::string>() << ", "
                    << d["physical_cores"].get<int>() << " cores / " << d["logical_cpus"].get<int>()
                    << " threads, AVX2 " << (d["avx2"].get<bool>() ? "yes" : "no") << ", FMA "
                    << (d["fma"].get<bool>() ? "yes" : "no") << ", F16C "
                    << (d["f16c"].get<bool>() ? "yes" : "no") << " -> "
                    << d["isa"].get<std::string>() << " kernels (best "
                    << d["isa_best"].get<std::string>() << "; QWEN3_ISA=... forces one)\n"
                    << "    cpu flags: " << d["cpu_flags"].get<std::string>();
        }
        std::cout << "\n";
      }
    }
    if (b.contains("note")) std::cout << "  " << b["note"].get<std::string>() << "\n";
  }
}

Registrar reg({"devices", "List the compiled-in backends and the devices they see",
               [](CLI::App& app) {
                 auto json = std::make_shared<bool>(false);
                 auto model = std::make_shared<std::string>();
                 app.add_flag("--json", *json, "print as JSON");
                 app.add_option("-m,--model", *model,
                                "Size the AUTO chain's NPU profiles for this model (GGUF, HF or "
                                "OpenVINO folder)");
                 return [json, model]() -> int {
                   const nlohmann::json backends = describe_devices(*model);
                   if (*json)
                     std::cout << backends.dump(2) << "\n";
                   else
                     print_text(backends);
                   return kExitOk;
                 };
               }});

}  // namespace
}  // namespace qwen3::cli
