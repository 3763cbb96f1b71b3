// `qwen3 devices`: the backends compiled into this build and the devices each one sees.
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "command.h"
#include "device/host_cpu.h"
#include "device/openvino_support.h"
#include "kernels/cpu_features.h"

namespace qwen3::cli {
namespace {

nlohmann::json describe_devices() {
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
  return nlohmann::json::array({native, openvino});
}

void print_text(const nlohmann::json& backends) {
  for (const auto& b : backends) {
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
                 app.add_flag("--json", *json, "print as JSON");
                 return [json]() -> int {
                   const nlohmann::json backends = describe_devices();
                   if (*json)
                     std::cout << backends.dump(2) << "\n";
                   else
                     print_text(backends);
                   return kExitOk;
                 };
               }});

}  // namespace
}  // namespace qwen3::cli
