// What the NPU requires of the weights (OpenVINO GenAI NPU guide): 4-bit symmetric
// (--sym --ratio 1.0), channel-wise (--group-size -1) recommended for larger models,
// group size 128 for small ones; NF4 only on Core Ultra Series 2 NPUs and newer.
#include <cstdio>

#include "device/validator_rules.h"

namespace qwen3::device::rules {
namespace {

std::string billions(double b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fB", b);
  return buf;
}

std::string export_fix(const ModelFacts& m) {
  return "re-export: optimum-cli export openvino -m <hf-model> --weight-format int4 --sym "
         "--ratio 1.0 --group-size " +
         std::string(m.params_billion > 4.0 ? "-1" : "128") + " <out-dir>";
}

}  // namespace

void npu_model_rules(const ModelFacts& m, std::vector<Finding>& out) {
  const std::string key = "(model)";
  switch (m.weights) {
    case WeightFormat::Gguf:
      out.push_back({Severity::Note, key,
                     "a GGUF file serves qwen3's native CPU engine; the NPU runs an OpenVINO "
                     "export, so only the model's shapes were used here",
                     export_fix(m)});
      return;
    case WeightFormat::Unknown:
      out.push_back({Severity::Note, key,
                     "the weight quantization is unknown: the INT4 rules were skipped",
                     "pass --quant int4-sym (and --group-size) or a folder with "
                     "openvino_config.json"});
      return;
    case WeightFormat::Int8:
    case WeightFormat::Fp16:
      out.push_back({Severity::Error, key,
                     std::string(to_string(m.weights)) +
                         " weights: LLMs on NPU must be 4-bit (INT4 or NF4) symmetric",
                     export_fix(m)});
      return;
    case WeightFormat::Nf4:
      out.push_back({Severity::Note, key,
                     "NF4 runs only on Core Ultra Series 2 (Lunar Lake) NPUs and newer",
                     "use INT4 on older NPUs"});
      if (m.group_size > 0)
        out.push_back({Severity::Warning, key,
                       "NF4 with group size " + std::to_string(m.group_size) +
                           "; NF4 is meant to be channel-wise",
                       "re-export with --weight-format nf4 --sym --group-size -1 --ratio 1.0"});
      return;
    case WeightFormat::Int4:
      break;
  }
  if (m.symmetric == false) {
    out.push_back({Severity::Error, key, "asymmetric INT4 weights: the NPU requires symmetric INT4",
                   export_fix(m)});
  }
  if (m.group_size > 0 && m.params_billion > 4.0) {
    out.push_back({Severity::Warning, key,
                   "group-wise INT4 (group size " + std::to_string(m.group_size) + ") on a " +
                       billions(m.params_billion) +
                       " model; channel-wise (--group-size -1) performs better above 4B",
                   export_fix(m)});
  }
}

}  // namespace qwen3::device::rules
