#!/usr/bin/env bash
# Runs the AArch64 kernel and forward tests (built by scripts/build_arm64.sh) under
# qemu-aarch64 -cpu max, which emulates NEON with dotprod and i8mm, so every kernel of
# the neon level is compared with the scalar reference. Exits 77 (CTest: skipped) with a
# message when qemu-aarch64 or the arm64 build is missing.
# Usage: scripts/test_arm64.sh [arm64 build dir, default build/arm64] [gtest args...]
set -uo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-build/arm64}
shift || true
TESTS=(kernels_isa_test forward_isa_test)
if ! command -v qemu-aarch64 >/dev/null; then
  echo "test_arm64: SKIPPED: qemu-aarch64 not found (apt-get install qemu-user)"
  exit 77
fi
for t in "${TESTS[@]}"; do
  if [[ ! -x "$DIR/$t" ]]; then
    echo "test_arm64: SKIPPED: $DIR/$t not built (run scripts/build_arm64.sh $DIR)"
    exit 77
  fi
done
status=0
for t in "${TESTS[@]}"; do
  echo "== $t (qemu-aarch64 -cpu max)"
  start=$(date +%s)
  qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu "$DIR/$t" "$@" || status=1
  echo "== $t: $(( $(date +%s) - start )) s"
done
exit $status
