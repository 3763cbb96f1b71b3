// --device resolved to a backend, with the reasons of the AUTO chain (see device_choice.h).
#include "engine/device_choice.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "common/file_bytes.h"
#include "device/model_facts.h"
#include "device/openvino_support.h"
#include "engine/native_backend.h"
#include "gguf/gguf_reader.h"
#include "model/hf_model_loader.h"
#include "text/tokenizer.h"

namespace qwen3::engine {
namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string property(const Properties& p, const std::string& key) {
  auto it = p.find(key);
  return it == p.end() ? std::string() : it->second;
}

std::optional<device::ModelFacts> facts_of(const std::string& path) {
  if (path.empty()) return std::nullopt;
  try {
    return device::load_model_facts(path);
  } catch (const std::exception&) {
    return std::nullopt;  // a tokenizer-only path, an unreadable folder: generic profiles
  }
}

// Properties for the native backend: the Pipeline's minus this unit's own keys.
Properties native_properties(const Properties& props) {
  Properties out;
  for (const auto& kv : props)
    if (!is_device_choice_property(kv.first)) out.insert(kv);
  return out;
}

nlohmann::json read_device_config(const std::string& path) {
  const std::optional<std::string> bytes = read_file_bytes(path);
  if (!bytes) throw std::invalid_argument("device_config: cannot read '" + path + "'");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*bytes);
  } catch (const std::exception& e) {
    throw std::invalid_argument("device_config '" + path + "' is not valid JSON: " + e.what());
  }
  // `qwen3 device-config` prints either the bare property map or {"properties": {...}}.
  if (j.is_object() && j.contains("properties") && j["properties"].is_object()) j = j["properties"];
  if (!j.is_object())
    throw std::invalid_argument("device_config '" + path +
                                "' must hold a JSON object of OpenVINO properties");
  return j;
}

std::unique_ptr<Backend> open_openvino(const std::string& model_path, const std::string& dev,
                                       const Properties& props, nlohmann::json device_props,
                                       const std::string& profile) {
  if (!openvino_available()) throw std::runtime_error(no_openvino_reason());
  BackendOptions o = parse_backend_options(model_path, dev, native_properties(props));
  o.properties = props;
  o.device_properties = std::move(device_props);
  o.profile = profile;
  return create_backend("openvino", o);
}

// The native CPU tier. An OpenVINO export is not something it can load: say so.
// `opened`: the GGUF of `path` if the caller has it open already.
std::unique_ptr<Backend> open_native(const std::string& path, const Properties& props,
                                     std::shared_ptr<const gguf::GgufFile> opened = nullptr) {
  if (openvino_folder_problem(path).empty())
    throw std::invalid_argument(
        "the native CPU engine cannot read the OpenVINO IR weights of '" + path +
        "': give it a GGUF or Hugging Face copy of the model with --cpu-model (property "
        "cpu_model)");
  BackendOptions o = parse_backend_options(path, "CPU", native_properties(props));
  o.opened_gguf = std::move(opened);
  return create_backend("native", o);
}

// AUTO's model facts. A GGUF file that is also the CPU tier's model is opened once: the
// facts come from the open file, which the CPU tier then loads from (`*opened`).
std::optional<device::ModelFacts> facts_opening(const std::string& path, bool cpu_tier_too,
                                                std::shared_ptr<const gguf::GgufFile>* opened) {
  std::error_code ec;
  if (!cpu_tier_too || !std::filesystem::is_regular_file(path, ec)) return facts_of(path);
  try {
    auto file = std::make_shared<const gguf::GgufFile>(gguf::GgufFile::open(path));
    auto facts = device::facts_from_gguf(*file, path);
    *opened = std::move(file);
    return facts;
  } catch (const std::exception&) {
    return std::nullopt;  // not a readable GGUF: generic profiles; the CPU tier says why
  }
}

}  // namespace

std::unique_ptr<Backend> make_handoff_backend(const std::string& cpu_model,
                                              const Properties& props) {
  if (openvino_folder_problem(cpu_model).empty())
    throw std::invalid_argument("--cpu-model '" + cpu_model +
                                "' is an OpenVINO export: the CPU engine needs a GGUF or Hugging "
                                "Face copy of the model");
  const BackendOptions o = parse_backend_options(cpu_model, "CPU", props);
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<const Qwen3Model>> loaded;
  std::shared_ptr<const Qwen3Model> model;
  {
    std::lock_guard<std::mutex> lock(mu);
    const std::string key = cpu_model + "\n" + o.quantize;
    model = loaded[key].lock();
    if (!model) {
      ModelLoadOptions lo;
      lo.n_threads = o.n_threads;
      lo.quantize = hf::parse_load_quantize(o.quantize);
      model = Qwen3Model::load(cpu_model, lo);
      loaded[key] = model;
    }
  }
  return std::make_unique<NativeBackend>(std::move(model), o);
}

bool is_device_choice_property(const std::string& key) {
  return key == "profile" || key == "device_config" || key == "cpu_model" || key == "handoff";
}

void check_same_tokenizer(const Tokenizer& device, const Tokenizer& cpu,
                          const std::string& device_path, const std::string& cpu_path) {
  // A probe with words, digits, CJK, an emoji and every special token of the template.
  const std::string probe =
      "<|im_start|>user\nHello, world! 123 \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x99\x82"
      "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n<tool_call>\n{}\n"
      "</tool_call><|im_end|><|endoftext|>";
  std::string why;
  if (device.n_vocab() != cpu.n_vocab())
    why = "vocabularies of " + std::to_string(device.n_vocab()) + " and " +
          std::to_string(cpu.n_vocab()) + " tokens";
  else if (device.im_end_id() != cpu.im_end_id() || device.eos_id() != cpu.eos_id())
    why = "different special token ids";
  else if (device.encode(probe, true) != cpu.encode(probe, true))
    why = "different tokenizations";
  // The chat template is the device model's for both (the CPU engine continues the ids),
  // so the CPU copy's own template does not matter.
  if (!why.empty())
    throw std::invalid_argument("the CPU model '" + cpu_path +
                                "' does not share the tokenizer of '" + device_path + "' (" + why +
                                "): the hand-off needs the same model in both forms");
}

bool openvino_available() {
  const auto names = backend_names();
  return std::find(names.begin(), names.end(), "openvino") != names.end();
}

std::string no_openvino_reason() {
  return "this build has no OpenVINO: rebuild with -DQWEN3_WITH_OPENVINO=ON where OpenVINO "
         "GenAI is installed (see docs/npu.md)";
}

std::string openvino_folder_problem(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string export_hint =
      "; export one with `optimum-cli export openvino -m Qwen/Qwen3-8B --weight-format int4 "
      "--sym --group-size -1 --ratio 1.0 Qwen3-8B-int4-cw-ov` (docs/npu.md)";
  if (!fs::is_directory(path, ec))
    return "'" + path + "' is not an OpenVINO model folder" + export_hint;
  for (const char* f : {"openvino_model.xml", "openvino_model.bin", "openvino_tokenizer.xml",
                        "openvino_detokenizer.xml"})
    if (!fs::exists(fs::path(path) / f, ec))
      return "'" + path + "' has no " + f + ", so it is not an OpenVINO GenAI export" + export_hint;
  return "";
}

std::vector<DeploymentTier> auto_chain_for(const std::string& model_path) {
  return default_auto_chain(facts_of(model_path));
}

DeviceChoice open_device_backend(const std::string& model_path, const std::string& device_in,
                                 const Properties& props, const std::string& backend_name) {
  const std::string device = upper(device_in);
  const std::string cpu_path =
      property(props, "cpu_model").empty() ? model_path : property(props, "cpu_model");
  DeviceChoice out;
  if (!backend_name.empty() && backend_name != "native" && backend_name != "openvino") {
    // A test backend (replay) stands in for the device.
    out.backend = create_backend(
        backend_name, parse_backend_options(model_path, device, native_properties(props)));
    out.tier = device;
    return out;
  }
  if (device == "CPU" || backend_name == "native") {
    if (device == "GPU" || device == "NPU")
      throw std::invalid_argument("the native backend runs on the CPU only, not " + device);
    out.backend = open_native(cpu_path, props);
    out.tier = "CPU";
    return out;
  }
  if (device == "GPU" || device == "NPU") {
    if (!openvino_available())
      throw std::invalid_argument("device " + device + " needs the OpenVINO GenAI backend, but " +
                                  no_openvino_reason() + "; or run on the CPU with --device CPU");
    const device::Device dev = device == "NPU" ? device::Device::NPU : device::Device::GPU;
    nlohmann::json device_props;
    std::string tier, profile = "file";
    if (const std::string file = property(props, "device_config"); !file.empty()) {
      device_props = read_device_config(file);
      tier = device + " (" + file + ")";
    } else {
      const std::string level_text = property(props, "profile");
      auto level = device::ProfileLevel::Balanced;
      if (!level_text.empty()) {
        auto parsed = device::parse_profile_level(level_text);
        if (!parsed)
          throw std::invalid_argument("unknown profile '" + level_text +
                                      "' (conservative, balanced, aggressive)");
        level = *parsed;
      }
      DeploymentTier t = make_tier(dev, level, facts_of(model_path));
      if (auto bad = detail::precheck(t)) throw std::invalid_argument(t.name() + ": " + *bad);
      device_props = t.properties;
      tier = t.name();
      profile = std::string(device::to_string(level));
    }
    out.backend = open_openvino(model_path, device, props, std::move(device_props), profile);
    out.tier = tier;
    return out;
  }
  if (device != "AUTO")
    throw std::invalid_argument("unknown device '" + device_in + "' (CPU, GPU, NPU or AUTO)");
  std::shared_ptr<const gguf::GgufFile> opened;
  const auto facts = facts_opening(model_path, cpu_path == model_path, &opened);
  auto sel = select_tier<Backend>(
      default_auto_chain(facts), [&](const DeploymentTier& tier) -> std::unique_ptr<Backend> {
        if (tier.device == device::Device::CPU) return open_native(cpu_path, props, opened);
        return open_openvino(model_path, std::string(device::to_string(tier.device)), props,
                             tier.properties, std::string(device::to_string(tier.level)));
      });
  out.backend = std::move(sel.backend);
  out.tier = sel.tier.device == device::Device::CPU ? "CPU" : sel.tier.name();
  out.failures = std::move(sel.failures);
  return out;
}

ChainPreview preview_auto_chain(const std::string& model_path) {
  ChainPreview p;
  const device::OpenVinoInfo ov = device::openvino_info();
  for (const DeploymentTier& tier : auto_chain_for(model_path)) {
    if (tier.device == device::Device::CPU) {
      p.chosen = "CPU";
      break;
    }
    std::string reason;
    if (!openvino_available()) {
      reason = no_openvino_reason();
    } else if (auto bad = detail::precheck(tier)) {
      reason = *bad;
    } else if (ov.compiled) {
      const std::string dev(device::to_string(tier.device));
      const bool seen = std::any_of(ov.devices.begin(), ov.devices.end(),
                                    [&](const auto& d) { return d.rfind(dev, 0) == 0; });
      if (!seen)
        reason = tier.device == device::Device::NPU
                     ? "NPU driver not found: OpenVINO sees no NPU device; install the Intel NPU "
                       "driver (Linux: intel/linux-npu-driver, /dev/accel/accel0 readable)"
                     : "no GPU visible to OpenVINO; install the Intel GPU compute runtime";
    }
    if (reason.empty()) {
      p.chosen = tier.name();
      break;
    }
    p.failures.push_back({tier, reason});
  }
  return p;
}

}  // namespace qwen3::engine
