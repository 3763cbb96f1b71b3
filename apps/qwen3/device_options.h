// The device options every front door that loads a model shares (run, chat, serve):
// --device CPU|NPU|GPU|AUTO, --profile / --device-config for the OpenVINO properties,
// --cpu-model and --handoff for the live NPU -> CPU hand-off; and the hidden test-only
// fake OpenVINO backend (--fake-openvino ...) that stands in for OpenVINO GenAI here.
// One header so the command files only call add_device_options / apply_device_options.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "engine/fake_openvino_backend.h"
#include "qwen3/pipeline.h"

namespace qwen3::cli {

struct DeviceOptions {
  std::string profile, device_config, cpu_model, handoff;
  // Test-only: the fake OpenVINO backend and its knobs (see fake_openvino_backend.h).
  bool fake = false, fake_busy = false, fake_fail_generate = false;
  std::string fake_fail, fake_reply;
  int fake_max_prompt_len = 0;
};

// `device`: where --device writes (a command's own field, so serve keeps ServerOptions).
inline void add_device_options(CLI::App& app, DeviceOptions& o, std::string& device) {
  app.add_option("--device", device,
                 "CPU (default; the native engine), NPU or GPU (OpenVINO GenAI, -m an "
                 "OpenVINO export folder), or AUTO: NPU -> NPU conservative -> GPU -> CPU, "
                 "logging why each tier failed")
      ->check(CLI::IsMember({"CPU", "NPU", "GPU", "AUTO"}, CLI::ignore_case));
  app.add_option("--profile", o.profile,
                 "NPU/GPU properties profile sized for the model: conservative, balanced "
                 "(default) or aggressive (see `qwen3 device-config`)")
      ->check(CLI::IsMember({"conservative", "balanced", "aggressive"}));
  app.add_option("--device-config", o.device_config,
                 "NPU/GPU: a JSON file of OpenVINO properties (`qwen3 device-config` output) "
                 "instead of --profile; validated before the compile");
  app.add_option("--cpu-model", o.cpu_model,
                 "GGUF or Hugging Face copy of the model for the native CPU engine: AUTO's CPU "
                 "tier and the hand-off");
  app.add_option("--handoff", o.handoff,
                 "never (default), overflow (a conversation outgrowing the NPU's "
                 "MAX_PROMPT_LEN continues token-exact on the CPU engine, and returns when it "
                 "fits) or load (also while the device serves another conversation); needs "
                 "--cpu-model")
      ->check(CLI::IsMember({"never", "overflow", "load"}));
  app.add_flag("--fake-openvino", o.fake, "Test-only fake OpenVINO backend")->group("");
  app.add_option("--fake-fail", o.fake_fail, "Fake tiers that fail (testing)")->group("");
  app.add_option("--fake-reply", o.fake_reply, "Fake device reply (testing)")->group("");
  app.add_option("--fake-max-prompt-len", o.fake_max_prompt_len, "Fake prompt cap (testing)")
      ->group("");
  app.add_flag("--fake-busy", o.fake_busy, "Fake device busy (testing)")->group("");
  app.add_flag("--fake-fail-generate", o.fake_fail_generate, "Fake device error (testing)")
      ->group("");
}

// Adds the options to the Pipeline properties (and registers the fake when asked).
inline void apply_device_options(const DeviceOptions& o, Properties& props) {
  if (!o.profile.empty()) props["profile"] = o.profile;
  if (!o.device_config.empty()) props["device_config"] = o.device_config;
  if (!o.cpu_model.empty()) props["cpu_model"] = o.cpu_model;
  if (!o.handoff.empty()) props["handoff"] = o.handoff;
  if (o.fake) {
    engine::register_fake_openvino_backend();
    engine::fake_openvino_set_busy(o.fake_busy);
    if (!o.fake_fail.empty()) props["fake_fail"] = o.fake_fail;
    if (!o.fake_reply.empty()) props["fake_reply"] = o.fake_reply;
    if (o.fake_max_prompt_len > 0)
      props["fake_max_prompt_len"] = std::to_string(o.fake_max_prompt_len);
    if (o.fake_fail_generate) props["fake_fail_generate"] = "1";
  }
}

// One stderr line per AUTO tier that failed and the tier serving, when it is not the
// plain CPU default.
inline void print_device_report(const Pipeline& pipe, const std::string& device) {
  const PipelineInfo info = pipe.info();
  if (info.failed_tiers.empty() && (device.empty() || device == "CPU" || device == "cpu")) return;
  for (const auto& f : info.failed_tiers)
    std::fprintf(stderr, "device: %s failed: %s\n", f.tier.c_str(), f.reason.c_str());
  std::fprintf(stderr, "device: %s serving (backend %s%s%s)\n", info.tier.c_str(),
               info.backend.c_str(), info.handoff == "never" ? "" : ", hand-off ",
               info.handoff == "never" ? "" : info.handoff.c_str());
}

// After a reply that the CPU engine took over from the device.
inline void print_handoff(const DecodedResult& r) {
  if (!r.handoff.empty())
    std::fprintf(stderr, "[handed off to the CPU engine: %s]\n", r.handoff.c_str());
}

}  // namespace qwen3::cli
