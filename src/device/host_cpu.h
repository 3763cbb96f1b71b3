// What `qwen3 devices` reports about the host CPU the native engine runs on.
#pragma once

#include <string>

namespace qwen3::device {

struct HostCpu {
  std::string model_name;  // /proc/cpuinfo "model name", "unknown" elsewhere
  int logical_cpus = 1;
  int physical_cores = 1;  // distinct (physical id, core id) pairs; logical if unknown
  bool avx2 = false, fma = false, f16c = false;  // CPUID, as the kernels detect them
};

HostCpu detect_host_cpu();

// Parses /proc/cpuinfo text (exposed for tests).
HostCpu parse_cpuinfo(const std::string& text);

}  // namespace qwen3::device
