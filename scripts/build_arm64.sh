#!/usr/bin/env bash
# Cross-builds the AArch64 (NEON) kernel and forward tests: only the layers they need
# (gguf, kernels, text, model; QWEN3_KERNELS_ONLY) with Debian's g++-aarch64-linux-gnu,
# linked statically so qemu-aarch64 runs them (scripts/test_arm64.sh, the CTest test
# arm64_qemu). Needs g++-aarch64-linux-gnu and the arm64 multiarch packages
# libutf8proc-dev:arm64 libgtest-dev:arm64 (scripts/setup.sh installs them).
# Usage: scripts/build_arm64.sh [build dir, default build/arm64]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/arm64}
if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
  echo "build_arm64: aarch64-linux-gnu-g++ not found (apt-get install g++-aarch64-linux-gnu)" >&2
  exit 1
fi
cmake -S . -B "$OUT" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DQWEN3_KERNELS_ONLY=ON -DQWEN3_BUILD_BENCH=OFF >/dev/null
cmake --build "$OUT" -j"${JOBS:-$(nproc)}"
