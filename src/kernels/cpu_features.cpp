// CPUID / XGETBV (x86-64) and getauxval (AArch64) feature detection and the ISA level
// choice (see cpu_features.h).
#include "kernels/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "common/enum_names.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace qwen3 {
namespace {

#if defined(__x86_64__) || defined(__i386__)
unsigned long long xgetbv0() {
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

// Linux keeps the AMX tile data state (8 KiB per thread) off until a process asks for it:
// arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) grants it to every thread of the
// process (0 = granted). Without it the first tile instruction faults.
bool request_amx_state() {
#if defined(__x86_64__) && defined(__linux__)
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.fma = (c >> 12) & 1u;
  f.f16c = (c >> 29) & 1u;
  const bool osxsave = (c >> 27) & 1u, avx = (c >> 28) & 1u;
  bool os_tiles = false;  // XCR0 bits 17, 18: XTILECFG, XTILEDATA
  if (osxsave && avx) {
    const unsigned long long xcr0 = xgetbv0();
    f.os_ymm = (xcr0 & 0x6) == 0x6;
    f.os_zmm = f.os_ymm && (xcr0 & 0xE0) == 0xE0;
    os_tiles = (xcr0 & 0x60000) == 0x60000;
  }
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned max_sub = a;
    f.avx2 = (b >> 5) & 1u;
    f.avx512f = (b >> 16) & 1u;
    f.avx512dq = (b >> 17) & 1u;
    f.avx512_ifma = (b >> 21) & 1u;
    f.avx512bw = (b >> 30) & 1u;
    f.avx512vl = (b >> 31) & 1u;
    f.avx512_vbmi = (c >> 1) & 1u;
    f.avx512_vbmi2 = (c >> 6) & 1u;
    f.avx512_vnni = (c >> 11) & 1u;
    f.amx_bf16 = (d >> 22) & 1u;
    f.amx_tile = (d >> 24) & 1u;
    f.amx_int8 = (d >> 25) & 1u;
    if (max_sub >= 1) {
      __cpuid_count(7, 1, a, b, c, d);
      f.avx_vnni = (a >> 4) & 1u;
      f.avx512_bf16 = (a >> 5) & 1u;
    }
  }
  // Without OS support for the register state the instructions fault: treat as absent.
  if (!f.os_ymm) f.avx2 = f.fma = f.f16c = f.avx_vnni = false;
  if (!f.os_zmm)
    f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = f.avx512_vnni = f.avx512_bf16 =
        f.avx512_vbmi = f.avx512_vbmi2 = f.avx512_ifma = false;
  if (!os_tiles) f.amx_tile = f.amx_int8 = f.amx_bf16 = false;
  f.os_amx = os_tiles && f.amx_tile && request_amx_state();
#endif
#if defined(__aarch64__) && defined(__linux__)
  // Bits of the Linux AArch64 ABI (asm/hwcap.h), spelled out for older headers.
  constexpr unsigned long kHwcapFphp = 1ul << 9, kHwcapAsimd = 1ul << 1, kHwcapAsimdDp = 1ul << 20,
                          kHwcap2I8mm = 1ul << 13;
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  f.asimd = (hw & kHwcapAsimd) != 0;
  f.asimd_dotprod = f.asimd && (hw & kHwcapAsimdDp) != 0;
  f.fphp = (hw & kHwcapFphp) != 0;
  f.i8mm = f.asimd && (hw2 & kHwcap2I8mm) != 0;
#endif
  return f;
}

bool read_rows8_prefetch_l2() {
  const char* pf = std::getenv("QWEN3_ROWS8_PREFETCH");
  if (pf == nullptr || *pf == '\0') return cpu_has(IsaLevel::Amx);
  if (std::strcmp(pf, "l1") == 0) return false;
  if (std::strcmp(pf, "l2") == 0) return true;
  throw std::runtime_error(std::string("QWEN3_ROWS8_PREFETCH=") + pf + ": use l1 or l2");
}

IsaLevel startup_level() {
  rows8_prefetch_l2();  // a bad QWEN3_ROWS8_PREFETCH is a clear error here, at start-up
  const char* isa = std::getenv("QWEN3_ISA");
  if (isa != nullptr && *isa != '\0') {
    IsaLevel l;
    if (!parse_isa(isa, &l))
      throw std::runtime_error(std::string("QWEN3_ISA=") + isa +
                               ": unknown level (use scalar, avx2, avx_vnni, avx512, amx or neon)");
    if (!cpu_has(l))
      throw std::runtime_error(std::string("QWEN3_ISA=") + isa + ": this CPU cannot run it (" +
                               "it has: " + cpu_flags_string() + "; best level " +
                               isa_name(best_isa()) + ")");
    return l;
  }
  const char* v = std::getenv("QWEN3_FORCE_SCALAR");
  if (v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0) return IsaLevel::Scalar;
  return best_isa();
}

// -1 until the first isa_level() call.
std::atomic<int>& current() {
  static std::atomic<int> c{-1};
  return c;
}

IsaLevel startup_cached() {
  static const IsaLevel l = startup_level();  // retried (and rethrown) while it throws
  return l;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

constexpr NamedValue<IsaLevel> kIsaNames[] = {
    {IsaLevel::Scalar, "scalar"}, {IsaLevel::Avx2, "avx2"}, {IsaLevel::AvxVnni, "avx_vnni"},
    {IsaLevel::Avx512, "avx512"}, {IsaLevel::Amx, "amx"},   {IsaLevel::Neon, "neon"}};

const char* isa_name(IsaLevel l) {
  return name_of(kIsaNames, l, "?");
}

bool parse_isa(const std::string& name, IsaLevel* out) {
  const std::optional<IsaLevel> l = value_of(kIsaNames, name);
  if (l) *out = *l;
  return l.has_value();
}

bool cpu_has(IsaLevel l) {
  const CpuFeatures& f = cpu_features();
  const bool avx2 = f.avx2 && f.fma && f.f16c && f.os_ymm;
  const bool avx512 =
      avx2 && f.os_zmm && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512_vnni;
  switch (l) {
    case IsaLevel::Scalar:
      return true;
    case IsaLevel::Avx2:
      return avx2;
    case IsaLevel::AvxVnni:
      return avx2 && f.avx_vnni;
    case IsaLevel::Avx512:
      return avx512;
    case IsaLevel::Amx:
      return avx512 && f.amx_tile && f.amx_int8 && f.os_amx;
    case IsaLevel::Neon:  // the *_neon.cpp kernels exist only in AArch64 builds
      return QWEN3_ARCH_ARM64 && f.asimd && f.asimd_dotprod;
  }
  return false;
}

std::vector<IsaLevel> available_isas() {
  std::vector<IsaLevel> v;
  for (IsaLevel l : {IsaLevel::Scalar, IsaLevel::Avx2, IsaLevel::AvxVnni, IsaLevel::Avx512,
                     IsaLevel::Amx, IsaLevel::Neon})
    if (cpu_has(l)) v.push_back(l);
  return v;
}

IsaLevel best_isa() {
  return available_isas().back();
}

std::string cpu_flags_string() {
  const CpuFeatures& f = cpu_features();
  const std::pair<const char*, bool> flags[] = {
      {"avx2", f.avx2},
      {"fma", f.fma},
      {"f16c", f.f16c},
      {"avx_vnni", f.avx_vnni},
      {"avx512f", f.avx512f},
      {"avx512bw", f.avx512bw},
      {"avx512vl", f.avx512vl},
      {"avx512dq", f.avx512dq},
      {"avx512_vnni", f.avx512_vnni},
      {"avx512_bf16", f.avx512_bf16},
      {"avx512_vbmi", f.avx512_vbmi},
      {"avx512_vbmi2", f.avx512_vbmi2},
      {"avx512_ifma", f.avx512_ifma},
      {"amx_tile", f.amx_tile},
      {"amx_int8", f.amx_int8},
      {"amx_bf16", f.amx_bf16},
      {"asimd", f.asimd},
      {"asimddp", f.asimd_dotprod},
      {"i8mm", f.i8mm},
      {"fphp", f.fphp},
  };
  std::string s;
  for (const auto& [name, on] : flags)
    if (on) s += (s.empty() ? "" : " ") + std::string(name);
  return s.empty() ? "none" : s;
}

IsaLevel isa_level() {
  int c = current().load(std::memory_order_relaxed);
  if (c < 0) {
    int expected = -1;
    current().compare_exchange_strong(expected, static_cast<int>(startup_cached()));
    c = current().load(std::memory_order_relaxed);
  }
  return static_cast<IsaLevel>(c);
}

void set_isa(IsaLevel l) {
  if (!cpu_has(l))
    throw std::runtime_error(std::string("ISA level ") + isa_name(l) +
                             ": this CPU cannot run it (it has: " + cpu_flags_string() + ")");
  current().store(static_cast<int>(l));
}

bool rows8_prefetch_l2() {
  static const bool l2 = read_rows8_prefetch_l2();
  return l2;
}

bool avx512_family(IsaLevel l) {
  return l == IsaLevel::Avx512 || l == IsaLevel::Amx;
}

bool use_avx2() {
  const IsaLevel l = isa_level();
  return (l >= IsaLevel::Avx2 && l <= IsaLevel::Avx512) || avx512_family(l);
}

void set_force_scalar(bool force) {
  if (force)
    set_isa(IsaLevel::Scalar);
  else  // back to the start-up choice, or the best level if that was scalar
    current().store(
        static_cast<int>(startup_cached() == IsaLevel::Scalar ? best_isa() : startup_cached()));
}

bool force_scalar() {
  return isa_level() == IsaLevel::Scalar;
}

}  // namespace qwen3
