#!/usr/bin/env bash
# Checks the one unit that touches OpenVINO GenAI (src/device/openvino/*.cc) against an
# installed OpenVINO GenAI, in about a minute, without building the rest of the project:
#   1. compiles each unit against the install's headers (API names, signatures, types);
#   2. checks that every OpenVINO symbol the objects need is exported by the install's
#      libopenvino_genai / libopenvino (a link check without linking our other layers).
# The code follows the public headers of OpenVINO GenAI 2026.3.0.0; run this against the
# release you deploy with and it tells you whether that still holds.
#
# Usage: scripts/check_openvino_api.sh OPENVINO_GENAI_DIR
#   OPENVINO_GENAI_DIR: an unpacked OpenVINO GenAI archive (the folder holding runtime/,
#   e.g. openvino_genai_ubuntu24_2026.3.0.0_x86_64) or a prefix with include/openvino/genai.
#        scripts/check_openvino_api.sh --headers-only GENAI_SOURCE_DIR
#   Without any OpenVINO install: compiles the unit against GenAI's headers from a source
#   checkout (git clone -b 2026.3.0.0 github.com/openvinotoolkit/openvino.genai) and the
#   declaration-only OpenVINO core stand-ins in tests/openvino_mock (no link check).
# Environment: CXX (default c++), NLOHMANN_INCLUDE (default: found by the compiler).
# The full build with the backend: cmake -S . -B build-ov -DQWEN3_WITH_OPENVINO=ON
#   -DOpenVINOGenAI_DIR="$OPENVINO_GENAI_DIR/runtime/cmake" && cmake --build build-ov -j
set -euo pipefail

headers_only=0
if [[ "${1:-}" == --headers-only ]]; then
  headers_only=1
  shift
fi
if [[ $# -ne 1 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ov_dir=$1
src_dir=$(cd "$(dirname "$0")/.." && pwd)
cxx=${CXX:-c++}

inc=""
for d in "$ov_dir/runtime/include" "$ov_dir/include" "$ov_dir/src/cpp/include"; do
  if [[ -f "$d/openvino/genai/llm_pipeline.hpp" ]]; then inc=$d; break; fi
done
if [[ -z "$inc" ]]; then
  echo "check_openvino_api: no openvino/genai/llm_pipeline.hpp under $ov_dir/runtime/include" \
       "or $ov_dir/include: point at an unpacked OpenVINO GenAI archive" >&2
  exit 2
fi
libs=()
for d in "$ov_dir/runtime/lib/intel64" "$ov_dir/runtime/lib/aarch64" "$ov_dir/lib" \
         "$ov_dir/lib64" "$ov_dir/runtime/lib/intel64/Release"; do
  for l in "$d"/libopenvino_genai.so* "$d"/libopenvino.so*; do
    [[ -f "$l" ]] && libs+=("$l")
  done
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-std=c++17 -O0 -Wall -Wextra -DQWEN3_HAVE_OPENVINO=1 -I"$src_dir/src" -I"$src_dir/include"
       -isystem "$inc")
[[ -n "${NLOHMANN_INCLUDE:-}" ]] && flags+=(-I"$NLOHMANN_INCLUDE")
if [[ $headers_only -eq 1 ]]; then
  flags+=(-I"$src_dir/tests/openvino_mock" -fsyntax-only)
  libs=()
fi

status=0
objs=()
for unit in "$src_dir"/src/device/openvino/*.cc; do
  obj="$work/$(basename "$unit" .cc).o"
  echo "compile $(basename "$unit")"
  if [[ $headers_only -eq 1 ]]; then
    "$cxx" "${flags[@]}" "$unit" || status=1
    continue
  fi
  if ! "$cxx" "${flags[@]}" -c "$unit" -o "$obj"; then
    status=1
    continue
  fi
  objs+=("$obj")
done
# The engine's adapter uses the unit through its OpenVINO-free header only.
echo "compile src/engine/openvino_backend.cpp"
if [[ $headers_only -eq 1 ]]; then
  "$cxx" "${flags[@]}" "$src_dir/src/engine/openvino_backend.cpp" || status=1
else
  "$cxx" "${flags[@]}" -c "$src_dir/src/engine/openvino_backend.cpp" -o "$work/engine.o" || status=1
fi

if [[ ${#objs[@]} -gt 0 && ${#libs[@]} -gt 0 ]]; then
  nm -C -u "${objs[@]}" 2>/dev/null | awk '{ $1=""; sub(/^ /, ""); print }' |
    grep -E '^(ov::|typeinfo for ov::|vtable for ov::)' | sort -u >"$work/needed"
  for l in "${libs[@]}"; do nm -D -C --defined-only "$l" 2>/dev/null; done |
    awk '{ $1=""; $2=""; sub(/^  /, ""); print }' | sort -u >"$work/exported"
  missing=$(comm -23 "$work/needed" "$work/exported" || true)
  if [[ -n "$missing" ]]; then
    echo "check_openvino_api: symbols the unit needs but the install does not export:" >&2
    echo "$missing" >&2
    status=1
  else
    echo "link check: all $(wc -l <"$work/needed") OpenVINO symbols are exported by the install"
  fi
elif [[ $headers_only -eq 1 ]]; then
  echo "headers only: compiled against GenAI's headers and tests/openvino_mock (no link check)"
elif [[ ${#libs[@]} -eq 0 ]]; then
  echo "check_openvino_api: no libopenvino_genai.so found under $ov_dir: link check skipped" >&2
fi

if [[ $status -eq 0 ]]; then
  echo "check_openvino_api: OK against $inc"
else
  echo "check_openvino_api: FAILED against $inc" >&2
fi
exit $status
