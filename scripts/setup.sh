#!/usr/bin/env bash
# Installs everything the project needs (Debian packages by name, pinned npm packages:
# the test references and KaTeX for the web page's math), then configures and builds.
# Safe to run again.
#
#   scripts/setup.sh             everything: the tests, benchmarks, fuzzers, cross tests
#   scripts/setup.sh --minimal   only the compiler and the libraries `qwen3` needs, then
#                                `qwen3` and libqwen3 (no tests: -DQWEN3_BUILD_TESTS=OFF);
#                                no Chromium, nginx, clang, Node.js/npm, cross compilers,
#                                qemu. The web page then shows math as LaTeX source.
set -euo pipefail
cd "$(dirname "$0")/.."

MINIMAL=0
for arg in "$@"; do
  case "$arg" in
    --minimal) MINIMAL=1 ;;
    -h | --help) sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "setup: unknown option '$arg' (--minimal, --help)" >&2; exit 2 ;;
  esac
done

APT_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  nlohmann-json3-dev libcli11-dev libutf8proc-dev
  libboost-dev libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev libedit-dev
  libjpeg62-turbo-dev libpng-dev libwebp-dev
)
# Only for the tests, benchmarks, fuzzers and the Python module (fonts-wqy-microhei, 1.6 MB:
# CJK glyphs in the web page test's screenshots); --minimal leaves them out.
TEST_PACKAGES=(
  libgtest-dev libgmock-dev libbenchmark-dev
  nodejs npm tmux jq clang libclang-rt-dev chromium fonts-wqy-microhei nginx
  python3-dev pybind11-dev python3-pytest python3-jsonschema python3-setuptools python3-wheel
)
((MINIMAL)) || APT_PACKAGES+=("${TEST_PACKAGES[@]}")
# On x86-64: the AArch64 cross compiler, qemu-user and the arm64 libraries the NEON
# kernel tests link (Debian multiarch), for the arm64_qemu test (scripts/build_arm64.sh).
ARM64_CROSS=0
if [[ $(dpkg --print-architecture) == amd64 && ${QWEN3_NO_ARM64:-0} != 1 ]] && ((!MINIMAL)); then
  ARM64_CROSS=1
  APT_PACKAGES+=(g++-aarch64-linux-gnu qemu-user libutf8proc-dev:arm64 libgtest-dev:arm64)
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
    $SUDO dpkg --add-architecture arm64
  fi
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from elsewhere than Debian (the machine image ships its own).
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]}")
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
if ((MINIMAL)); then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DQWEN3_BUILD_TESTS=OFF \
    -DQWEN3_BUILD_BENCH=OFF -DQWEN3_PYTHON=OFF
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target qwen3 qwen3_shared qwen3_static
  echo "setup: done (minimal): $BUILD_DIR/qwen3, libqwen3 in $BUILD_DIR and $BUILD_DIR/lib;" \
       "install with: cmake --install $BUILD_DIR"
  exit 0
fi

# Pinned npm packages; npm ci checks each against the integrity in package-lock.json.
if ! cmp -s tools/package-lock.json tools/node_modules/.qwen3-installed-lock 2>/dev/null; then
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
  cp tools/package-lock.json tools/node_modules/.qwen3-installed-lock
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DQWEN3_BUILD_TESTS=ON \
  -DQWEN3_BUILD_BENCH=ON -DQWEN3_PYTHON=AUTO  # undoes an earlier --minimal in this folder
cmake --build "$BUILD_DIR" -j"$(nproc)"
if ((ARM64_CROSS)); then
  JOBS=$(nproc) scripts/build_arm64.sh "$BUILD_DIR/arm64"
fi
echo "setup: done; run the tests with: ctest --test-dir $BUILD_DIR --output-on-failure"
