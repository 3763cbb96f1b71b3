#!/usr/bin/env bash
# Runs the AArch64 kernel and forward tests (built by scripts/build_arm64.sh) under
# qemu-aarch64 -cpu max, which emulates NEON with dotprod and i8mm, so every kernel of
# the neon level is compared with the scalar reference; the kernel tests again on a CPU
# without i8mm (-cpu cortex-a76: the dot-product tiles alone). Then the level switch on
# ARM (QWEN3_ISA=scalar runs, an x86 level is refused) and that a plain ARMv8.0 CPU
# without the dot product (-cpu cortex-a53) runs at the scalar level. Exits 77 (CTest:
# skipped) with a message when qemu-aarch64 or the arm64 build is missing.
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
QEMU=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
status=0
fail() {
  echo "test_arm64: FAILED: $*"
  status=1
}
for t in "${TESTS[@]}"; do
  echo "== $t (qemu-aarch64 -cpu max)"
  start=$(date +%s)
  "${QEMU[@]}" -cpu max "$DIR/$t" "$@" || fail "$t"
  echo "== $t: $(($(date +%s) - start)) s"
done

echo "== kernels_isa_test on a CPU with dotprod but no i8mm (qemu-aarch64 -cpu cortex-a76)"
start=$(date +%s)
"${QEMU[@]}" -cpu cortex-a76 "$DIR/kernels_isa_test" --gtest_brief=1 || fail "cortex-a76"
echo "== cortex-a76: $(($(date +%s) - start)) s"

echo "== the level switch on AArch64"
names=IsaLevels.NamesParseAndOrder
out=$("${QEMU[@]}" -cpu max "$DIR/kernels_isa_test" --gtest_filter=$names 2>&1)
grep -q "best level neon, in use neon" <<<"$out" || fail "-cpu max does not pick neon: $out"
out=$(QWEN3_ISA=scalar "${QEMU[@]}" -cpu max "$DIR/kernels_isa_test" --gtest_filter=$names 2>&1)
grep -q "in use scalar" <<<"$out" || fail "QWEN3_ISA=scalar is not honoured: $out"
out=$(QWEN3_ISA=avx2 "${QEMU[@]}" -cpu max "$DIR/kernels_isa_test" --gtest_filter=$names 2>&1)
grep -q "QWEN3_ISA=avx2: this CPU cannot run it" <<<"$out" || fail "QWEN3_ISA=avx2 not refused: $out"

echo "== a plain ARMv8.0 CPU (qemu-aarch64 -cpu cortex-a53: no dotprod)"
out=$("${QEMU[@]}" -cpu cortex-a53 "$DIR/kernels_isa_test" 2>&1) || fail "cortex-a53: $out"
grep -q "best level scalar, in use scalar" <<<"$out" || fail "cortex-a53 is not scalar: $out"
out=$(QWEN3_ISA=neon "${QEMU[@]}" -cpu cortex-a53 "$DIR/kernels_isa_test" --gtest_filter=$names 2>&1)
grep -q "QWEN3_ISA=neon: this CPU cannot run it" <<<"$out" || fail "cortex-a53 QWEN3_ISA=neon: $out"
[[ $status == 0 ]] && echo "test_arm64: all passed"
exit $status
