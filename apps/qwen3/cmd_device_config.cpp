// `qwen3 device-config`: builds a device's property map from a profile (stdout: JSON,
// findings on stderr) or validates a property file (--validate). Exit 1 when errors are
// found, 2 on bad input.
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "command.h"
#include "common/file_bytes.h"
#include "device/config_builder.h"
#include "device/config_validator.h"
#include "device/model_facts.h"
#include "device/profiles.h"
#include "engine/device_fallback.h"

namespace qwen3::cli {
namespace {

struct Opts {
  std::string device = "NPU";
  std::string profile;
  std::string model;
  std::string preset;
  std::string quant;
  std::optional<int> group_size;
  std::vector<std::string> sets;
  std::string validate;
  bool json = false;
  bool explain = false;
  int threads = 0;
};

std::optional<device::ModelFacts> model_facts(const Opts& o) {
  return device::describe_model(o.model, o.preset, o.quant, o.group_size);
}

nlohmann::json read_property_file(const std::string& path) {
  const std::optional<std::string> bytes = read_file_bytes(path);
  if (!bytes) throw std::runtime_error(path + ": cannot open");
  auto j = nlohmann::json::parse(*bytes, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error(path + ": not valid JSON");
  return j;
}

int run_validate(const Opts& o, device::Device dev, device::ProfileLevel level,
                 const std::optional<device::ModelFacts>& model) {
  const nlohmann::json props = read_property_file(o.validate);
  const device::ValidateOptions vo = device::profile_validate_options(dev, level, model, o.threads);
  const auto findings = device::validate_config(props, vo);
  if (o.json) {
    nlohmann::json out = {{"device", std::string(device::to_string(dev))},
                          {"findings", device::to_json(findings)},
                          {"errors", device::count(findings, device::Severity::Error)},
                          {"warnings", device::count(findings, device::Severity::Warning)},
                          {"notes", device::count(findings, device::Severity::Note)}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << device::format_findings(findings);
  }
  return device::has_errors(findings) ? kExitFailure : kExitOk;
}

int run_build(const Opts& o, device::Device dev, device::ProfileLevel level,
              const std::optional<device::ModelFacts>& model) {
  device::BuildRequest req;
  req.device = dev;
  req.level = level;
  req.model = model;
  req.hardware_threads = o.threads;
  for (const auto& s : o.sets) req.overrides.push_back(device::parse_override(s));
  const device::BuildResult r = device::build_config(req);
  std::cout << r.properties.dump(2) << "\n";
  if (o.explain) {
    const device::Profile p = device::make_profile(dev, level, o.threads);
    std::cerr << "profile " << device::to_string(level) << " for " << device::to_string(dev)
              << ":\n";
    for (const auto& s : p.settings) std::cerr << "  " << s.key << ": " << s.rationale << "\n";
    if (p.kv_budget_bytes > 0)
      std::cerr << "  KV budget " << p.kv_budget_bytes / device::kMiB
                << " MiB: " << p.budget_rationale << "\n";
  }
  if (!r.findings.empty()) std::cerr << device::format_findings(r.findings);
  return device::has_errors(r.findings) ? kExitFailure : kExitOk;
}

// --device AUTO: the fallback chain, each tier with its built properties.
int run_auto_chain(const Opts& o, const std::optional<device::ModelFacts>& model) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : engine::default_auto_chain(model, o.threads))
    out.push_back({{"device", std::string(device::to_string(t.device))},
                   {"profile", std::string(device::to_string(t.level))},
                   {"properties", t.properties}});
  std::cout << out.dump(2) << "\n";
  return kExitOk;
}

Registrar reg(
    {"device-config", "Build or validate device properties (OpenVINO NPU/GPU, native CPU)",
     [](CLI::App& app) {
       auto o = std::make_shared<Opts>();
       app.add_option("--device", o->device,
                      "NPU, GPU, CPU (default NPU), or AUTO for the fallback chain");
       app.add_option("--profile", o->profile,
                      "conservative, balanced or aggressive (default balanced)");
       app.add_option("-m,--model", o->model, "GGUF file or Hugging Face / OpenVINO model folder");
       app.add_option("--model-preset", o->preset, "instead of -m: 0.6b, 1.7b, 4b, 8b, 14b or 32b");
       app.add_option("--quant", o->quant, "model weights: int4-sym, int4-asym, nf4, int8, fp16");
       app.add_option("--group-size", o->group_size, "model weight group size (-1 = channel-wise)");
       app.add_option("--set", o->sets, "override a property: KEY=VALUE (repeatable)");
       app.add_option("--validate", o->validate,
                      "validate this JSON property file instead of building");
       app.add_flag("--json", o->json, "with --validate: findings as JSON");
       app.add_flag("--explain", o->explain, "print each profile value's rationale");
       app.add_option("--threads", o->threads,
                      "logical CPUs to plan for (default: this machine's)");
       return [o]() -> int {
         if (o->threads < 0) throw std::invalid_argument("--threads must be >= 0");
         if (o->device == "AUTO" || o->device == "auto") {
           if (!o->validate.empty() || !o->sets.empty() || !o->profile.empty())
             throw std::invalid_argument(
                 "--device AUTO prints the fallback chain; --validate, --set and --profile "
                 "need one device");
           return run_auto_chain(*o, model_facts(*o));
         }
         const auto dev = device::parse_device(o->device);
         if (!dev)
           throw std::invalid_argument("unknown device '" + o->device +
                                       "' (known: NPU, GPU, CPU, AUTO)");
         const std::string level_name = o->profile.empty() ? "balanced" : o->profile;
         const auto level = device::parse_profile_level(level_name);
         if (!level)
           throw std::invalid_argument("unknown profile '" + level_name +
                                       "' (known: conservative, balanced, aggressive)");
         const auto model = model_facts(*o);
         if (!o->validate.empty()) {
           if (!o->sets.empty())
             throw std::invalid_argument("--set applies when building, not with --validate");
           return run_validate(*o, *dev, *level, model);
         }
         return run_build(*o, *dev, *level, model);
       };
     }});

}  // namespace
}  // namespace qwen3::cli
