// Which SIMD level the kernels run at. On x86-64 the CPU's features are read once from
// CPUID and XGETBV (the OS must save the YMM / ZMM state too), on AArch64 from the
// kernel's hardware capabilities (getauxval: HWCAP_ASIMDDP, HWCAP2_I8MM); the best level
// the CPU has is used unless QWEN3_ISA=scalar|avx2|avx_vnni|avx512|amx|neon (or
// QWEN3_FORCE_SCALAR=1, an alias of scalar) asks for another. One binary runs everywhere:
// only the files built for a level (*_avx2.cpp, *_avxvnni.cpp, *_avx512.cpp, *_amx.cpp on x86-64,
// *_neon.cpp on AArch64) use its instructions, and they are called only through the
// level's kernel table (kernels/matmul_internal.h).
#pragma once

#include <string>
#include <vector>

// The target architecture: which kernel files exist in this build (CMakeLists.txt).
#if defined(__x86_64__) || defined(__i386__)
#define QWEN3_ARCH_X86 1
#else
#define QWEN3_ARCH_X86 0
#endif
#if defined(__aarch64__)
#define QWEN3_ARCH_ARM64 1
#else
#define QWEN3_ARCH_ARM64 0
#endif

namespace qwen3 {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool os_ymm = false;  // XCR0: the OS saves YMM state
  bool os_zmm = false;  // XCR0: the OS saves opmask + ZMM state
  bool avx_vnni = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512_vnni = false;
  // AMX: CPUID amx_tile / amx_int8 / amx_bf16; os_amx = XCR0 saves XTILECFG + XTILEDATA
  // and Linux granted this process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM,
  // requested once at detection).
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false, os_amx = false;
  // Optional parts, reported only (no kernel requires them yet):
  bool avx512_bf16 = false, avx512_vbmi = false, avx512_vbmi2 = false, avx512_ifma = false;
  // AArch64: Advanced SIMD, its 8-bit dot product (SDOT/UDOT), the 8-bit matrix
  // multiply (SMMLA) and half-precision arithmetic.
  bool asimd = false, asimd_dotprod = false, i8mm = false, fphp = false;
};

// Detected once.
const CpuFeatures& cpu_features();

// Ordered: each level's kernels may use everything of the levels below it, except that
// avx512 does not require AVX-VNNI (Zen 4 has AVX512_VNNI but not the VEX AVX-VNNI).
// Neon (AArch64 Advanced SIMD with the dot product extension) stands beside the x86
// levels: only scalar lies below it, and no x86 CPU has it. Amx is avx512 plus the AMX-INT8
// tiles in the rows8 matmuls of prompts (its value is above Neon's, so the order of the
// values is not the order of the levels: compare levels with the helpers below).
enum class IsaLevel : int { Scalar = 0, Avx2 = 1, AvxVnni = 2, Avx512 = 3, Neon = 4, Amx = 5 };

// avx512 or amx: the 512-bit kernels (amx runs every avx512 kernel and adds tiles).
bool avx512_family(IsaLevel l);

const char* isa_name(IsaLevel l);  // "scalar", "avx2", "avx_vnni", "avx512", "amx", "neon"
// Parses a QWEN3_ISA value; false for an unknown name.
bool parse_isa(const std::string& name, IsaLevel* out);
// True if this CPU (and OS) can run the level's kernels.
bool cpu_has(IsaLevel l);
// The levels this machine can run, lowest first (scalar always).
std::vector<IsaLevel> available_isas();
// The best level this machine can run.
IsaLevel best_isa();
// The CPU flags behind the level choice, e.g. "avx2 fma f16c avx_vnni avx512f ...".
std::string cpu_flags_string();

// The level in use. The first call reads QWEN3_ISA / QWEN3_FORCE_SCALAR and throws
// std::runtime_error for an unknown name or a level the CPU lacks.
IsaLevel isa_level();
// Forces a level (tests, benchmarks); throws std::runtime_error if the CPU lacks it.
void set_isa(IsaLevel l);

// Where the avx512 decode kernels prefetch: true = L2 (prefetcht1), the default on CPUs
// with AMX; false = L1 (prefetcht0), as tuned on Zen. QWEN3_ROWS8_PREFETCH=l1|l2 overrides
// it; any other value throws std::runtime_error, at the latest with the first isa_level().
bool rows8_prefetch_l2();

// isa_level() is avx2, avx_vnni, avx512 or amx: the AVX2+FMA+F16C kernels may run.
bool use_avx2();
// set_force_scalar(true) = set_isa(Scalar); false returns to the start-up choice.
void set_force_scalar(bool force);
bool force_scalar();

}  // namespace qwen3
