#include "device/host_cpu.h"

#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "kernels/cpu_features.h"

namespace qwen3::device {
namespace {
std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}
}  // namespace

HostCpu parse_cpuinfo(const std::string& text) {
  HostCpu h;
  h.model_name = "unknown";
  std::istringstream in(text);
  std::string line, physical_id = "0";
  std::set<std::pair<std::string, std::string>> cores;
  int processors = 0;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if (key == "processor") ++processors;
    if (key == "model name" && h.model_name == "unknown") h.model_name = value;
    if (key == "physical id") physical_id = value;
    if (key == "core id") cores.insert({physical_id, value});
    if (key == "flags") {
      const std::string flags = " " + value + " ";
      h.avx2 = flags.find(" avx2 ") != std::string::npos;
      h.fma = flags.find(" fma ") != std::string::npos;
      h.f16c = flags.find(" f16c ") != std::string::npos;
    }
  }
  h.logical_cpus = processors > 0 ? processors : 1;
  h.physical_cores = cores.empty() ? h.logical_cpus : static_cast<int>(cores.size());
  return h;
}

HostCpu detect_host_cpu() {
  std::ifstream in("/proc/cpuinfo");
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  HostCpu h = parse_cpuinfo(ss.str());
  const unsigned hw = std::thread::hardware_concurrency();
  if (hw > 0) h.logical_cpus = static_cast<int>(hw);
  if (h.physical_cores > h.logical_cpus) h.physical_cores = h.logical_cpus;
  // CPUID is the authority (the kernels dispatch on it); cpuinfo flags may be masked.
  const CpuFeatures& f = cpu_features();
  h.avx2 = f.avx2;
  h.fma = f.fma;
  h.f16c = f.f16c;
  return h;
}

}  // namespace qwen3::device
